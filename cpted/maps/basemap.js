// The store's base map on a Leaflet map, drawn by protomaps-leaflet from the app's own
// vector tiles (see cpted/basemap.py and cpted/maps/basemap.py). `cfg` is written by
// StoreBasemap: tile sources by name, colours, the background and the credit line.
function cptedBasemap(map, cfg) {
  if (typeof protomapsL === "undefined") { return null; }
  var P = protomapsL;
  // Line widths grow with zoom, from their width at zoom 14.
  var width = function (base) {
    return function (z) { return Math.max(0.5, base * Math.pow(1.45, z - 14)); };
  };
  var klass = function (f) { return (f.props && f.props["class"]) || "local"; };
  var paintRules = [
    {dataSource: "areas", dataLayer: "areas",
     symbolizer: new P.PolygonSymbolizer({fill: cfg.areaFill, opacity: 0.55,
                                          stroke: cfg.areaEdge, width: 1.2})},
    {dataSource: "buildings", dataLayer: "buildings", minzoom: 15,
     symbolizer: new P.PolygonSymbolizer({fill: cfg.buildingFill, stroke: cfg.buildingEdge,
                                          width: 0.5})},
    // a city in view: its main streets; closer in, every street by class (alleys and
    // paths from zoom 15)
    {dataSource: "major_streets", dataLayer: "major_streets", maxzoom: 13,
     symbolizer: new P.LineSymbolizer({color: cfg.street, width: function (z, f) {
       return width(klass(f) === "arterial" ? 3.2 : 2.4)(z); }})},
    {dataSource: "streets", dataLayer: "streets", minzoom: 15,
     filter: function (z, f) { var c = klass(f); return c === "alley" || c === "path"; },
     symbolizer: new P.LineSymbolizer({color: cfg.street, width: width(0.8), dash: [3, 2]})},
    {dataSource: "streets", dataLayer: "streets", minzoom: 14,
     filter: function (z, f) { return klass(f) === "local"; },
     symbolizer: new P.LineSymbolizer({color: cfg.street, width: width(1.6)})},
    {dataSource: "streets", dataLayer: "streets", minzoom: 14,
     filter: function (z, f) { var c = klass(f); return c === "arterial" || c === "collector"; },
     symbolizer: new P.LineSymbolizer({color: cfg.street, width: function (z, f) {
       return width(klass(f) === "arterial" ? 3.2 : 2.4)(z); }})}
  ];
  var labelRules = [
    {dataSource: "area_labels", dataLayer: "area_labels",
     symbolizer: new P.CenteredTextSymbolizer({labelProps: ["name"], fill: cfg.areaLabel,
       stroke: "#ffffff", width: 3, font: "600 12px sans-serif", maxLineChars: 18})},
    {dataSource: "streets", dataLayer: "streets", minzoom: 15,
     symbolizer: new P.LineLabelSymbolizer({labelProps: ["name"], fill: cfg.streetLabel,
       stroke: "#ffffff", width: 2, font: "11px sans-serif"})}
  ];
  var sources = {};
  Object.keys(cfg.sources).forEach(function (k) {
    sources[k] = {url: cfg.sources[k].url, maxDataZoom: cfg.sources[k].maxDataZoom};
  });
  // The ground under every overlay; the names in a pane of their own above the data
  // (Leaflet's overlays are at z-index 400, markers at 600), letting clicks through.
  var ground = P.leafletLayer({sources: sources, paintRules: paintRules, labelRules: [],
                               backgroundColor: cfg.background, attribution: cfg.attribution});
  ground.addTo(map);
  if (!map.getPane("cptedNames")) {
    var pane = map.createPane("cptedNames");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
  }
  P.leafletLayer({sources: sources, paintRules: [], labelRules: labelRules,
                  pane: "cptedNames", attribution: ""}).addTo(map);
  return ground;
}
