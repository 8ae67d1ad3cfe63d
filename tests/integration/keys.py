"""Fill in tests/sipp/uac_keys.xml: a caller who presses keys (SIP INFO) at set times."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.peers.sipp import SCENARIOS

_INFO = """  <pause milliseconds="{ms}"/>
  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Max-Forwards: 70
      [routes]
      From: "[user]" <sip:[user]@[remote_ip]:[remote_port]>;tag=[pid]uac[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: [cseq] INFO
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160

    ]]>
  </send>
  <recv response="200"/>
"""


def keys_scenario(workdir: Path, name: str, keys: Sequence[tuple[int, str]]) -> Path:
    """`keys`: (milliseconds to wait before, key) in order. Returns the scenario file."""
    for _, key in keys:
        if len(key) != 1 or key not in "0123456789*#":
            raise ValueError(f"not a key: {key!r}")
    steps = "".join(_INFO.format(ms=ms, key=key) for ms, key in keys)
    text = (SCENARIOS / "uac_keys.xml").read_text().replace("<!-- STEPS -->\n", steps)
    path = workdir / f"{name}.xml"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
