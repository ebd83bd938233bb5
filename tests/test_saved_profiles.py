"""Import profiles saved in the store by name: checked names and texts, the door's
permission, and reuse by name from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpted import accounts as acc
from cpted.access import Access, PermissionDeniedError
from cpted.accounts import Actor
from cpted.cli import main
from cpted.privacy import Role
from layers.errors import ConflictError, ProfileError
from layers.profile_catalog import MAX_NAME_CHARS, check_name, setting_key
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store, open_store
from tests.test_mapping_edit import WALK

WALK_PROFILE = """# saved from the Import page
[profile]
name = "{name}"
layer = "concerns"

[columns]
lon = "Longitude"
lat = "Latitude"
service_request_id = "Ticket"
service_code = "What"
requested_datetime = "Opened On"
status = "Status"

[values.status]
Resolved = "closed"
"In Progress" = "open"
"*" = "open"
"" = "open"
"""


def walk_profile(name: str = "Walk audit export") -> str:
    return WALK_PROFILE.format(name=name)


def coordinator() -> Actor:
    return Actor("casey", "Casey", Role.COORDINATOR)


@pytest.mark.parametrize(("name", "problem"), [
    ("", "needs a name"),
    ("   ", "needs a name"),
    ("x" * (MAX_NAME_CHARS + 1), f"at most {MAX_NAME_CHARS} characters"),
    ("../etc/passwd", "it holds '/'"),
    ("city\\311", "it holds '\\\\'"),
    ("<b>311</b>", "it holds '/', '<', '>'"),
    ("[x](http://e.org)", "it holds"),
    ("-rf", "starts with a character other than a letter or digit"),
    ("city311.toml", "does not end in .toml"),
    ("KC311", "shipped with the program"),
    ("Line\nbreak", None),  # tidied to one space: a plain name
])
def test_profile_names_are_plain_and_bounded(name: str, problem: str | None) -> None:
    if problem is None:
        assert check_name(name) == "Line break"
        return
    with pytest.raises(ProfileError) as info:
        check_name(name)
    assert problem in str(info.value)


def test_a_saved_profile_is_checked_found_by_name_in_any_case_and_logged(
        any_store: Store) -> None:
    door = Access(any_store, coordinator())
    saved = door.save_profile(walk_profile())
    assert saved.name == "Walk audit export" and saved.layer is Layer.CONCERNS
    # kept in the settings table, as the text given
    assert any_store.get_setting(setting_key("Walk audit export")) == walk_profile()
    assert any_store.get_setting("profile:walk audit export") == walk_profile()
    [listed] = door.saved_profiles()
    assert listed.name == "Walk audit export" and listed.profile == door.find_profile(
        "walk AUDIT export")
    assert listed.profile is not None and listed.profile.values["status"].default == "open"
    trail = door.audit_trail()
    assert trail.iloc[0]["action"] == "import profile saved"
    assert trail.iloc[0]["target_id"] == "Walk audit export"
    # the same name again is refused unless replacing; nothing is changed by the refusal
    other = walk_profile("WALK audit export").replace('"*" = "open"', '"*" = "closed"')
    with pytest.raises(ConflictError, match="'Walk audit export' exists already"):
        door.save_profile(other)
    assert door.find_profile("Walk audit export").values["status"].default == "open"
    door.save_profile(other, replace=True)
    [listed] = door.saved_profiles()
    assert listed.name == "WALK audit export"
    assert door.find_profile("walk audit export").values["status"].default == "closed"


def test_a_profile_is_validated_on_save_and_again_on_load(store: Store) -> None:
    door = Access(store, coordinator())
    bad = walk_profile().replace('Resolved = "closed"', 'Resolved = "finished"')
    with pytest.raises(ProfileError, match="'finished' is not one of our status values"):
        door.save_profile(bad)
    with pytest.raises(ProfileError, match="not valid TOML"):
        door.save_profile("[profile\nname = 'x'")
    with pytest.raises(ProfileError, match="holds '/'"):
        door.save_profile(walk_profile("a/b"))
    assert door.saved_profiles() == []
    # a text that no longer loads (written by hand, or a field since removed) is listed
    # with its problem, and refused by name, never used half-read
    store.set_setting("profile:old one", walk_profile("Old one").replace("status =", "mood ="))
    [old] = door.saved_profiles()
    assert old.profile is None and "unknown field 'mood'" in old.problem
    with pytest.raises(ProfileError, match="unknown field 'mood'"):
        door.find_profile("Old one")


@pytest.mark.parametrize("role", [Role.PUBLIC, Role.RESIDENT, Role.OFFICER, Role.PLANNER])
def test_only_coordinators_and_admins_may_save_a_profile(store: Store, role: Role) -> None:
    who = (acc.public("browser-1") if role is Role.PUBLIC
           else Actor(f"{role.value}-1", "X", role))
    door = Access(store, who)
    before = store.revision()
    with pytest.raises(PermissionDeniedError, match="needs one of: coordinator, admin"):
        door.save_profile(walk_profile())
    assert store.revision() == before and store.get_setting(setting_key(
        "Walk audit export")) is None
    if role is Role.PLANNER:  # who may import may read them
        assert door.saved_profiles() == []
    else:
        with pytest.raises(PermissionDeniedError):
            door.saved_profiles()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_imports_and_lists_with_a_saved_profile_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.gpkg"
    src = tmp_path / "walk.csv"
    src.write_text(WALK)
    with open_store(db) as s:
        Access(s, coordinator(), Settings()).save_profile(walk_profile())
    code, out, err = run(capsys, "profile", "list", "--db", str(db))
    assert code == 0, err
    assert "kc311: Kansas City 311 export (layer concerns)" in out
    assert "Walk audit export: layer concerns (saved)" in out
    code, out, err = run(capsys, "profile", "check", "walk audit export", str(src), "--db",
                         str(db))
    assert code == 0, err
    assert "status               <- Status  [profile, high]" in out
    code, out, err = run(capsys, "import", str(src), "--layer", "concerns", "--profile",
                         "Walk audit export", "--db", str(db))
    assert code == 0, err
    assert "read 6, accepted 6, rejected 0" in out and "profile: Walk audit export" in out
    with open_store(db) as s:
        stored = s.read(Layer.CONCERNS).set_index("service_request_id")
    assert stored.loc["T-2", "status"] == "closed" and stored.loc["T-5", "status"] == "open"
    assert stored.loc["T-6", "status"] == "open"  # the empty cell, as the profile says
    assert stored.loc["T-1", "service_code"] == "graffiti"
    # a file of that name wins over the saved profile; an unknown name lists the saved ones
    code, _, err = run(capsys, "import", str(src), "--layer", "concerns", "--profile",
                       "Walk audits", "--db", str(db), "--dry-run")
    assert code == 1
    assert "no shipped or saved profile of that name" in err and "Walk audit export" in err


def test_listing_saved_profiles_never_creates_a_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "none-yet.gpkg"
    code, out, _ = run(capsys, "profile", "list", "--db", str(db))
    assert code == 0 and "kc311" in out and "(saved)" not in out
    code, _, err = run(capsys, "profile", "check", "Walk audit export", "--db", str(db))
    assert code == 1 and "no store to look for a saved profile in" in err
    assert not db.exists()
