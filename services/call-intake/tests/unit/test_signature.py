"""X-Twilio-Signature, checked against the example in Twilio's security documentation."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from slotline.call_intake.settings import CallIntakeSettings
from slotline.call_intake.telephony.webhook import called_url
from slotline.events.twilio_signature import (
    signature_is_valid,
    twilio_signature,
    url_forms,
)

pytestmark = pytest.mark.unit

# Twilio's published example: auth token, URL, parameters and the signature it sends.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


class TestTwilioSignature:
    def test_matches_twilios_documented_example(self) -> None:
        assert twilio_signature(TOKEN, URL, PARAMS) == EXPECTED

    def test_parameter_order_does_not_matter(self) -> None:
        assert twilio_signature(TOKEN, URL, list(reversed(PARAMS))) == EXPECTED

    def test_a_changed_value_url_or_token_breaks_it(self) -> None:
        assert not signature_is_valid(TOKEN, URL, [*PARAMS[:-1], ("To", "+18005550000")], EXPECTED)
        assert not signature_is_valid(TOKEN, URL.replace("foo=1", "foo=2"), PARAMS, EXPECTED)
        assert not signature_is_valid("54321", URL, PARAMS, EXPECTED)
        assert not signature_is_valid(TOKEN, URL, PARAMS, None)

    def test_the_url_is_accepted_with_and_without_its_default_port(self) -> None:
        with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
        assert signature_is_valid(TOKEN, with_port, PARAMS, EXPECTED)
        signed_with_port = twilio_signature(TOKEN, with_port, PARAMS)
        assert signature_is_valid(TOKEN, URL, PARAMS, signed_with_port)

    def test_a_non_default_port_is_never_dropped(self) -> None:
        assert url_forms("https://a.example:8443/x") == ["https://a.example:8443/x"]
        assert url_forms("http://a.example/x") == ["http://a.example/x", "http://a.example:80/x"]


def request(
    headers: dict[str, str], path: str = "/v1/telephony/t/voice", query: str = ""
) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": "http",
            "server": ("10.0.0.5", 8105),
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )


class TestTheUrlTwilioSigned:
    def test_is_the_request_url_with_its_query_string(self) -> None:
        url = called_url(request({"host": "10.0.0.5:8105"}, query="step=1"), CallIntakeSettings())
        assert url == "http://10.0.0.5:8105/v1/telephony/t/voice?step=1"

    def test_behind_a_tls_proxy_comes_from_the_forwarded_headers_when_trusted(self) -> None:
        headers = {
            "host": "10.0.0.5:8105",
            "x-forwarded-proto": "https",
            "x-forwarded-host": "calls.example.com",
        }
        trusted = CallIntakeSettings(trust_forwarded_headers=True)
        assert (
            called_url(request(headers), trusted)
            == "https://calls.example.com/v1/telephony/t/voice"
        )
        untrusted = called_url(request(headers), CallIntakeSettings())
        assert untrusted == "http://10.0.0.5:8105/v1/telephony/t/voice"

    def test_a_configured_public_base_url_wins(self) -> None:
        settings = CallIntakeSettings(public_base_url="https://calls.example.com/")
        url = called_url(request({"host": "internal:80"}, query="step=0"), settings)
        assert url == "https://calls.example.com/v1/telephony/t/voice?step=0"
