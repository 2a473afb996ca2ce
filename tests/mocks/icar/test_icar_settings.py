"""The ICAR config keys: which key the connector uses per dealer, which site code."""
from __future__ import annotations

from icarflex.mocks.icar.settings import DEFAULTS, IcarSettings


def settings(**overrides):
    return IcarSettings.from_config({**DEFAULTS, **overrides})


def test_default_dms_key_is_the_dealers_demo_key():
    assert settings().key_for("demo") == "demo-dms-key"
    assert settings().key_for("demo2") == "demo2-dms-key"


def test_a_plain_dms_key_applies_to_every_dealer():
    assert settings(DMS_KEY="sandbox-key").key_for("demo2") == "sandbox-key"


def test_a_dms_key_mapping_falls_back_to_the_dealers_demo_key():
    s = settings(DMS_KEY={"demo": "real-key"})
    assert (s.key_for("demo"), s.key_for("demo2")) == ("real-key", "demo2-dms-key")


def test_a_dms_key_mapping_from_the_environment_is_json():
    assert settings(DMS_KEY='{"demo": "k"}').key_for("demo") == "k"


def test_site_codes_per_dealer_with_a_derived_default():
    s = settings()
    assert (s.site_for("demo"), s.site_for("demo2"), s.site_for("garage-nord")) == \
        ("PARIS16", "LYON03", "GARAGENORD")


def test_retry_settings_are_typed_from_environment_text():
    s = settings(SYNC_RETRIES="2", SYNC_TIMEOUT="0.5", SYNC_BACKOFF="0")
    assert (s.retries, s.timeout, s.backoff) == (2, 0.5, 0.0)
