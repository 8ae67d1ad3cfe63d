"""The HTTP lookup adapter against a real HTTP server on 127.0.0.1: the answer mapped to
flow variables, and every failure (timeout, HTTP 500, not JSON, a missing field, no
server) an AdapterError with a logged reason that holds neither the token nor the
caller's values. Then the site file: the `lookups` section validated with lines and
fields, its specs known to the flow validator, the token handled as a secret."""

from __future__ import annotations

import asyncio
import json
import logging
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.db.connection import open_db
from firmware.ivr.adapters import AdapterError
from firmware.ivr.http_lookup import HttpLookup, HttpLookupConfig, build_request, extract
from firmware.siteconfig import SiteInvalid, SiteService
from firmware.switch.site_runtime import adapters
from tests.peers.billing_http import Billing
from tests.peers.ports import free_port

TOKEN = "s3cr3t-t0ken-xyz"


@pytest.fixture
def billing() -> Iterator[Billing]:
    b = Billing()
    yield b
    b.close()


def config(billing: Billing, **kw: object) -> HttpLookupConfig:
    base: dict[str, object] = {
        "name": "billing", "url": f"http://127.0.0.1:{billing.port}/api/due?account={{account}}",
        "params": ("account",), "outputs": {"amount_due": "amount", "due_date": "due.date"},
        "timeout": 1.0, "bearer_token": TOKEN}
    base.update(kw)
    return HttpLookupConfig(**base)  # type: ignore[arg-type]


def run(adapter: HttpLookup, account: str) -> dict[str, str]:
    return dict(asyncio.run(adapter.lookup({"account": account})))


def test_success_maps_the_json_paths_and_sends_the_token(billing: Billing) -> None:
    assert run(HttpLookup(config(billing)), "3300012345") == {
        "amount_due": "123.45", "due_date": "2026-12-25"}
    assert billing.seen.paths == ["/api/due?account=3300012345"]
    assert billing.seen.auth == [f"Bearer {TOKEN}"]


def test_values_are_url_encoded_into_the_placeholder(billing: Billing) -> None:
    run(HttpLookup(config(billing)), "12 34&x=1/#")
    assert billing.seen.paths == ["/api/due?account=12%2034%26x%3D1%2F%23"]


def test_post_sends_the_other_params_as_json(billing: Billing) -> None:
    cfg = config(billing, method="POST", params=("account", "caller"))
    assert asyncio.run(HttpLookup(cfg).lookup({"account": "42", "caller": "8001"}))[
        "amount_due"] == "123.45"
    assert json.loads(billing.seen.bodies[0]) == {"caller": "8001"}


@pytest.mark.parametrize(("account", "reason"), [
    ("500", "HTTP 500"),
    ("html", "not JSON"),
    ("nodate", "no 'due.date'"),
    ("slow", "no answer within 1 s"),
])
def test_failures_are_adapter_errors_with_a_logged_reason(
        billing: Billing, caplog: pytest.LogCaptureFixture, account: str, reason: str) -> None:
    caplog.set_level(logging.INFO, logger="firmware.ivr.http_lookup")
    started = time.monotonic()
    with pytest.raises(AdapterError, match=reason):
        run(HttpLookup(config(billing)), account)
    assert time.monotonic() - started < 1.5  # the timeout, not the server, decides
    logged = caplog.text
    assert reason in logged and "billing" in logged and f"127.0.0.1:{billing.port}" in logged
    assert TOKEN not in logged and f"account={account}" not in logged


def test_no_server_is_an_adapter_error(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nobody listens there
    cfg = HttpLookupConfig("billing", f"http://127.0.0.1:{port}/due/{{account}}",
                           params=("account",), outputs={"a": "amount"}, timeout=1)
    with pytest.raises(AdapterError, match="cannot connect"):
        run(HttpLookup(cfg), "1")


def test_the_loop_keeps_running_during_a_slow_lookup(billing: Billing) -> None:
    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        t = asyncio.create_task(ticker())
        with pytest.raises(AdapterError):
            await HttpLookup(config(billing)).lookup({"account": "slow"})
        t.cancel()
        return ticks

    assert asyncio.run(main()) >= 10  # ~1 s of 50 ms ticks while the request waited


def test_pure_parts() -> None:
    cfg = HttpLookupConfig("b", "http://h/x/{account}?k=v", params=("account", "caller"),
                           outputs={"first": "items.0.amount", "ok": "paid"})
    req = build_request(cfg, {"account": "a/b", "caller": "8001"})
    assert req.url == "http://h/x/a%2Fb?k=v&caller=8001"
    assert "Authorization" not in req.headers
    with pytest.raises(AdapterError, match="missing parameter 'caller'"):
        build_request(cfg, {"account": "1"})
    assert extract(cfg, b'{"items": [{"amount": 0.10}], "paid": false}') == {
        "first": "0.10", "ok": "false"}
    with pytest.raises(AdapterError, match="is a dict"):
        extract(cfg, b'{"items": [{"amount": {}}], "paid": true}')
    with pytest.raises(AdapterError, match="null"):
        extract(cfg, b'{"items": [{"amount": null}], "paid": true}')
    assert TOKEN not in repr(HttpLookupConfig("b", "http://h/", bearer_token=TOKEN))


# --- the site file -----------------------------------------------------------------


def service(tmp_path: Path) -> SiteService:
    return SiteService(tmp_path, open_db(tmp_path), notify=lambda _d: None)


def errors_of(svc: SiteService, text: str) -> list[str]:
    with pytest.raises(SiteInvalid) as e:
        svc.import_yaml(textwrap.dedent(text), "site.yaml")
    return [str(err) for err in e.value.errors]


SITE = """\
    lookups:
      - name: billing
        url: "http://10.0.0.5/api/due?account={account}"
        timeout: 2
        outputs: {amount_due: amount, due_date: due.date}
        bearer_token: %s
    ivr_flows:
      - id: f
        entry: look
        nodes:
          look:
            kind: lookup
            adapter: billing
            params: {account: "${caller}"}
            next: say
            on_fail: bye
          say: {kind: say, format: amount, value: "${amount_due}", next: bye, on_fail: bye}
          bye: {kind: hangup}
    """


def test_lookup_section_errors_name_line_and_field(tmp_path: Path) -> None:
    errors = errors_of(service(tmp_path), """\
        lookups:
          - name: a
            url: "ftp://10.0.0.5/due"
            outputs: {x: amount}
          - name: b
            url: "http://10.0.0.5/due?account={account}&p={pin}"
            params: [account]
            outputs: {x: amount}
          - name: c
            url: "http://10.0.0.5/due/{acc:>5}"
            outputs: {x: amount}
          - name: d
            url: "http://{host}/due"
            outputs: {}
            headers: {Authorization: Bearer x}
          - name: demo_billing
            url: "http://10.0.0.5/"
            outputs: {x: y}
        """)
    assert errors[:4] == [
        "site.yaml:3: lookups[0].url (lookup 'a'): must start with http:// or https://",
        "site.yaml:6: lookups[1].url (lookup 'b'): unknown placeholder {pin} (params: "
        "account)",
        "site.yaml:10: lookups[2].url (lookup 'c'): bad placeholder {acc}: a placeholder "
        "is a plain name such as {account}",
        "site.yaml:13: lookups[3].url (lookup 'd'): a placeholder may not be in the host",
    ], errors
    errors = errors_of(service(tmp_path), """\
        lookups:
          - name: d
            url: "http://10.0.0.5/due"
            outputs: {}
            headers: {Authorization: Bearer x}
          - name: demo_billing
            url: "http://10.0.0.5/"
            outputs: {x: y}
        """)
    assert errors == [
        "site.yaml:4: lookups[0].outputs (lookup 'd'): name at least one variable the "
        "lookup sets",
        "site.yaml:5: lookups[0].headers.Authorization (lookup 'd'): put the token in "
        "`bearer_token` (a secret: masked in exports, never logged)",
    ], errors
    errors = errors_of(service(tmp_path), """\
        lookups:
          - name: demo_billing
            url: "http://10.0.0.5/"
            outputs: {x: y}
        """)
    assert errors == ["site.yaml:2: lookups[0].name (lookup 'demo_billing'): "
                      "'demo_billing' is a built-in adapter"], errors


def test_flow_nodes_are_checked_against_the_configured_lookups(tmp_path: Path) -> None:
    text = SITE % TOKEN
    errors = errors_of(service(tmp_path), text.replace("adapter: billing", "adapter: bill"))
    assert any(e.startswith("site.yaml:13: ivr_flows[0].nodes.look.adapter") and
               "no lookup adapter named 'bill'" in e for e in errors), errors
    errors = errors_of(service(tmp_path), text.replace('params: {account: "${caller}"}',
                                                       'params: {acct: "${caller}"}'))
    assert any(e.startswith("site.yaml:14: ivr_flows[0].nodes.look.params.account") and
               "required by adapter 'billing'" in e for e in errors), errors
    svc = service(tmp_path)
    svc.import_yaml(textwrap.dedent(text), "site.yaml")  # amount_due is a known variable
    site = svc.current().raise_for_errors()
    assert site.env.adapters["billing"].params == {"account"}
    assert site.env.adapters["billing"].outputs == {"amount_due", "due_date"}
    made = adapters(site)
    assert set(made) == {"demo_billing", "billing"}
    assert isinstance(made["billing"], HttpLookup) and made["billing"].cfg.timeout == 2


def test_token_is_a_secret_in_exports_and_kept_on_reimport(tmp_path: Path) -> None:
    svc = service(tmp_path)
    svc.import_yaml(textwrap.dedent(SITE % TOKEN), "site.yaml")
    plain = svc.export_yaml()
    assert TOKEN not in plain and "bearer_token" not in plain
    assert "url: http://10.0.0.5/api/due?account={account}" in plain
    assert f"bearer_token: {TOKEN}" in svc.export_yaml(with_secrets=True)
    outcome = svc.import_yaml(plain, "site.yaml")  # an export without secrets ...
    assert outcome.changes["lookups"].changed == []
    site = svc.current().raise_for_errors()
    assert site.lookups["billing"].bearer_token == TOKEN  # ... keeps the stored token
    svc.import_yaml(textwrap.dedent(SITE % '""'), "site.yaml")
    assert svc.current().raise_for_errors().lookups["billing"].bearer_token is None
