"""Delivery against a real SMTP server (aiosmtpd) that each test starts on a free loopback
port: a follower gets exactly one message per change, with the public note, a plain-text
part and RFC 8058's one-click unsubscribe, and about a fix the "Is it fixed?" links; the
unsubscribe link ends the follow; with the server stopped nothing is lost and, once it is
back, nothing is sent twice; a sensitive report's message holds nothing private. The links
are followed through the app's own routes (:func:`cpted.feeds.feed_routes`) with
Starlette's test client.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cpted import accounts as acc
from cpted.access import Access
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.feeds import feed_routes
from cpted.mail import SmtpTransport
from cpted.privacy import Role
from layers.settings import Settings
from layers.store import Store
from tests.helpers import body, link

ADDRESS = "follower@example.org"
KEY = "test-signing-key-0123456789abcdef"
UNSUBSCRIBE = re.compile(r"^<http://testserver/follow/unsubscribe\?token=[\w.-]+>$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailServer:
    """An SMTP server on a loopback port that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        assert self._controller is not None
        self._controller.stop()
        self._controller = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = BytesParser(policy=default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer()
    server.start()
    yield server
    if server._controller is not None:
        server.stop()


@pytest.fixture
def settings(mail: MailServer) -> Settings:
    return Settings(max_writes_per_minute=1000, secret_key=KEY,
                    public_url="http://testserver", smtp_host="127.0.0.1",
                    smtp_port=mail.port, smtp_starttls=False,
                    mail_from="Safety map <noreply@testserver.example>")


@pytest.fixture
def web(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=feed_routes(store=store, settings=settings))) as client:
        yield client


def send(store: Store, settings: Settings, now: datetime | None = None) -> Any:
    """One run of the outbox over SMTP, as ``cpted notify`` does."""
    door = Access(store, acc.operator(), settings)
    with SmtpTransport(settings) as transport:
        return door.deliver(transport.send, now=now)


def report(store: Store, settings: Settings, code: str = "graffiti", **kw: Any) -> str:
    return Access(store, acc.public("reporter"), settings).submit_report(
        ReportDraft(code, -94.5812, 39.0412, kw.pop("text", "Tags on the wall"), **kw))


def staff(store: Store, settings: Settings) -> Access:
    return Access(store, Actor("c1", "Casey", Role.COORDINATOR), settings)


def follow_and_confirm(store: Store, settings: Settings, mail: MailServer, web: TestClient,
                       rid: str) -> None:
    Access(store, acc.public("follower"), settings).follow_report(rid, ADDRESS)
    assert send(store, settings).sent == 1
    confirmation = mail.received[-1]
    url = link(confirmation, "/follow/confirm")
    page = web.get(url)  # what a link scanner does: it confirms nothing
    assert page.status_code == 200 and "Yes, send them" in page.text
    assert pd.read_sql("SELECT confirmed_at FROM follows", store.engine)["confirmed_at"] \
        .isna().all()
    done = web.post(url)
    assert done.status_code == 200 and "You now follow" in done.text


def outbox(store: Store) -> pd.DataFrame:
    return pd.read_sql("SELECT * FROM outbox ORDER BY id", store.engine)


def test_a_follower_gets_one_message_with_the_public_note_and_one_click_unsubscribe(
        store: Store, settings: Settings, mail: MailServer, web: TestClient) -> None:
    rid = report(store, settings)
    follow_and_confirm(store, settings, mail, web, rid)
    assert mail.recipients == [[ADDRESS]]
    staff(store, settings).change_status(rid, "fixed", "Painted over on Tuesday",
                                         visibility="public")
    assert send(store, settings).sent == 1
    assert send(store, settings).sent == 0  # nothing more to send
    assert len(mail.received) == 2
    news = mail.received[1]
    assert mail.recipients[1] == [ADDRESS]
    assert news["From"] == "Safety map <noreply@testserver.example>"
    assert news["To"] == ADDRESS and news["Subject"] == f"Graffiti {rid}: now Fixed"
    assert news.get_content_type() == "text/plain"
    text = news.get_content()
    assert "Painted over on Tuesday" in text and "Status: Fixed (was Submitted)" in text
    assert f"http://testserver/concern?report={rid}" in text
    assert UNSUBSCRIBE.match(news["List-Unsubscribe"]), news["List-Unsubscribe"]
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert news["Message-ID"] and news["Auto-Submitted"] == "auto-generated"
    assert news["List-Unsubscribe"].strip("<>") in text  # the same link in the text


def test_the_message_about_a_fix_carries_both_answer_links_over_smtp(
        store: Store, settings: Settings, mail: MailServer, web: TestClient) -> None:
    rid = report(store, settings)
    follow_and_confirm(store, settings, mail, web, rid)
    staff(store, settings).change_status(rid, "fixed", "Painted over", visibility="public")
    assert send(store, settings).sent == 1
    news = mail.received[-1]
    assert news.get_content_type() == "text/plain"
    text = news.get_content()
    found = dict(re.findall(r"(Yes, it is fixed|No, it is not fixed): "
                            r"(http://testserver/follow/fixed\?token=[\w.-]+&answer=\w+)",
                            text))
    assert set(found) == {"Yes, it is fixed", "No, it is not fixed"}
    assert found["Yes, it is fixed"].endswith("&answer=yes")
    assert found["No, it is not fixed"].endswith("&answer=no")
    # what the server delivered works: the page asks, its button answers
    yes = found["Yes, it is fixed"].removeprefix("http://testserver")
    assert "Is it fixed?" in web.get(yes).text
    assert "is recorded" in web.post(yes, data={"answer": "yes"}).text
    assert pd.read_sql("SELECT answer FROM fixed_answers", store.engine)["answer"].tolist() \
        == ["yes"]


def test_the_unsubscribe_link_ends_the_follow(
        store: Store, settings: Settings, mail: MailServer, web: TestClient) -> None:
    rid = report(store, settings)
    follow_and_confirm(store, settings, mail, web, rid)
    staff(store, settings).change_status(rid, "acknowledged", "Seen", visibility="public")
    send(store, settings)
    url = mail.received[-1]["List-Unsubscribe"].strip("<>")
    page = web.get(url)
    assert page.status_code == 200 and 'name="List-Unsubscribe"' in page.text
    assert ADDRESS not in page.text and page.headers["Cache-Control"] == "no-store"
    # what a mail provider sends for a one-click unsubscription (RFC 8058)
    done = web.post(url, content=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "No more messages" in done.text
    staff(store, settings).change_status(rid, "fixed", "Done", visibility="public")
    assert send(store, settings).sent == 0
    assert len(mail.received) == 2  # the confirmation and the one change before
    assert web.post(url).status_code == 200  # again: still stopped, no error
    assert web.get(url.replace("token=", "token=x")).status_code == 400


def test_with_the_server_stopped_nothing_is_lost_and_nothing_is_sent_twice(
        store: Store, settings: Settings, mail: MailServer, web: TestClient) -> None:
    rid = report(store, settings)
    follow_and_confirm(store, settings, mail, web, rid)
    mail.stop()
    staff(store, settings).change_status(rid, "in progress", "Crew booked",
                                         visibility="public")
    now = datetime.now(UTC)
    first = send(store, settings, now)
    assert (first.sent, first.failed, first.stopped) == (0, 1, True)
    [row] = outbox(store)[outbox(store)["sent_at"].isna()].to_dict("records")
    assert row["attempts"] == 1 and "Connection refused" in row["last_error"]
    assert pd.Timestamp(row["due_at"]) == pd.Timestamp(now + timedelta(minutes=1)).floor("ms")
    # not due again yet: nothing is tried
    waiting = send(store, settings, now + timedelta(seconds=30))
    assert (waiting.sent, waiting.failed) == (0, 0)
    # a second failure waits twice as long
    again = now + timedelta(minutes=1, seconds=1)
    assert send(store, settings, again).failed == 1
    row = outbox(store).set_index("id").loc[row["id"]].to_dict()
    assert row["attempts"] == 2
    assert pd.Timestamp(row["due_at"]) == pd.Timestamp(again + timedelta(minutes=2)).floor("ms")
    # a change made while the server is away waits in the outbox too
    staff(store, settings).change_status(rid, "fixed", "Painted over", visibility="public")
    mail.start()
    assert send(store, settings, now + timedelta(minutes=2)).sent == 1  # the newer one is due
    assert send(store, settings, now + timedelta(minutes=2, seconds=30)).sent == 0
    assert send(store, settings, now + timedelta(minutes=3, seconds=2)).sent == 1
    assert send(store, settings, now + timedelta(hours=7)).sent == 0
    subjects = [m["Subject"] for m in mail.received[1:]]
    assert sorted(subjects) == sorted([f"Graffiti {rid}: now In progress",
                                       f"Graffiti {rid}: now Fixed"])
    assert outbox(store)["sent_at"].notna().all()
    assert len({m["Message-ID"] for m in mail.received}) == len(mail.received) == 3


def test_two_senders_at_once_send_each_message_once(
        store: Store, settings: Settings, mail: MailServer, web: TestClient) -> None:
    rid = report(store, settings)
    follow_and_confirm(store, settings, mail, web, rid)
    for k in range(5):  # five more followers, each confirmed
        Access(store, acc.public(f"f{k}"), settings).follow_report(rid, f"f{k}@example.org")
    send(store, settings)
    for message in mail.received[-5:]:
        web.post(link(message, "/follow/confirm"))
    staff(store, settings).change_status(rid, "fixed", "Done", visibility="public")
    before = len(mail.received)
    results: list[Any] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        results.append(send(store, settings))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.sent for r in results) == 6
    news = mail.received[before:]
    assert sorted(r[0] for r in mail.recipients[before:]) == sorted(
        [ADDRESS, *(f"f{k}@example.org" for k in range(5))])
    assert len(news) == 6


def test_a_sensitive_report_s_message_holds_nothing_private(
        store: Store, settings: Settings, mail: MailServer, web: TestClient) -> None:
    private = {"description": "Blue door behind the laundromat",
               "address": "4321 Secret Lane", "contact": "quincy.hidden@example.org",
               "phone": "+1 816 555 0142", "public-marked note": "Raid planned for Friday",
               "internal note": "Informant lives at number 7"}
    rid = report(store, settings, "drug_activity", text=private["description"],
                 address=private["address"], contact_email=private["contact"],
                 contact_phone=private["phone"], contact_name="Quincy Hidden")
    follow_and_confirm(store, settings, mail, web, rid)
    staff(store, settings).change_status(rid, "acknowledged", private["internal note"],
                                         visibility="internal")
    staff(store, settings).change_status(rid, "in progress", private["public-marked note"],
                                         visibility="public")
    assert send(store, settings).sent == 2
    place = re.compile(r"-94\.581|39\.041")
    for message in mail.received:
        raw = message.as_string() + body(message)
        found = [name for name, text in private.items() if text in raw]
        assert not found and not place.search(raw) and "Quincy" not in raw, found
    assert [m["Subject"] for m in mail.received[1:]] == [
        f"Suspected drug activity {rid}: now Acknowledged",
        f"Suspected drug activity {rid}: now In progress"]


def test_cpted_notify_sends_over_smtp_and_without_it_writes_eml_files(
        store: Store, settings: Settings, mail: MailServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cpted.cli import main

    rid = report(store, settings)
    Access(store, acc.public("follower"), settings).follow_report(rid, ADDRESS)
    for name, value in {"SECRET_KEY": KEY, "PUBLIC_URL": "http://testserver",
                        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port),
                        "SMTP_STARTTLS": "false"}.items():
        monkeypatch.setenv(f"CPTED_{name}", value)
    assert main(["notify", "--db", store.url]) == 0
    assert "1 message(s) sent to the mail server 127.0.0.1" in capsys.readouterr().out
    assert len(mail.received) == 1 and mail.received[0]["To"] == ADDRESS
    # no mail server configured: the messages become .eml files
    Access(store, acc.public("follower"), settings).follow_report(rid, "other@example.org")
    monkeypatch.setenv("CPTED_SMTP_HOST", "")
    monkeypatch.setenv("CPTED_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert main(["notify", "--db", store.url]) == 0
    assert "1 message(s) sent to files in" in capsys.readouterr().out
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    message = BytesParser(policy=default).parsebytes(eml.read_bytes())
    assert message["To"] == "other@example.org"
    assert UNSUBSCRIBE.match(message["List-Unsubscribe"])
    assert "/follow/confirm?token=" in body(message)
    assert main(["notify", "--db", store.url]) == 0  # nothing due: no second file
    assert len(list((tmp_path / "outbox").glob("*"))) == 1
    assert main(["notify", "--every", "0", "--db", store.url]) == 1
    assert "--every takes" in capsys.readouterr().err


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made here (nothing committed)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_sign_in_are_used_when_configured(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A submission server that takes mail only over STARTTLS from a signed-in user."""
    import ssl

    from aiosmtpd.smtp import AuthResult

    from cpted import mail as mail_module

    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"right-password")

    sink = MailServer()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator,
                            auth_require_tls=True)
    controller.start()
    try:
        # trust the test's own certificate, as a deployment trusts its server's
        trusting = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(mail_module.ssl, "create_default_context", lambda: trusting)
        settings = Settings(max_writes_per_minute=1000, secret_key=KEY, smtp_host="127.0.0.1",
                            smtp_port=sink.port, smtp_user="mapper",
                            smtp_password="right-password")
        rid = report(store, settings)
        Access(store, acc.public("f"), settings).follow_report(rid, ADDRESS)
        assert send(store, settings).sent == 1
        assert seen == [(b"mapper", b"right-password")]
        assert sink.received[0]["To"] == ADDRESS
    finally:
        controller.stop()
