import pytest

from search import settings
from search.settings import SETTINGS, Setting, SettingError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No SEARCH_ variable of the surrounding shell leaks into these tests."""
    for setting in SETTINGS.values():
        monkeypatch.delenv(setting.env, raising=False)


def test_defaults_when_env_is_unset():
    for name, setting in SETTINGS.items():
        assert settings.get(name) == setting.default
    assert settings.get("max_articles") == 1000
    assert settings.get("write_wait") == 10.0
    assert settings.get("api_key") is None
    assert settings.get("index") == "index"


def test_empty_env_value_means_default(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_ARTICLES", "")
    monkeypatch.setenv("SEARCH_API_KEY", "")
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "")
    assert settings.get("max_articles") == 1000
    assert settings.get("api_key") is None
    assert settings.get("write_wait") == 10.0


def test_int_setting_parsed_with_underscores(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_ARTICLES", "10_000")
    value = settings.get("max_articles")
    assert value == 10_000
    assert type(value) is int


def test_int_setting_parsed_with_surrounding_spaces(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_PER_PAGE", " 25 ")
    assert settings.get("max_per_page") == 25


def test_float_setting_parsed(monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.25")
    value = settings.get("write_wait")
    assert value == 0.25
    assert type(value) is float


def test_float_setting_accepts_an_integer_string(monkeypatch):
    monkeypatch.setenv("SEARCH_COMMIT_SECONDS", "3")
    value = settings.get("commit_seconds")
    assert value == 3.0
    assert type(value) is float


def test_float_setting_may_be_zero_when_its_minimum_is_zero(monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0")
    assert settings.get("write_wait") == 0.0


def test_string_settings_are_taken_as_given(monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", "s3cret key")
    monkeypatch.setenv("SEARCH_CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("SEARCH_INDEX", "/tmp/somewhere")
    assert settings.get("api_key") == "s3cret key"
    assert settings.get("cors_origins") == "https://a.example,https://b.example"
    assert settings.get("index") == "/tmp/somewhere"


@pytest.mark.parametrize("raw", ["many", "12abc", "1.5", "1e3", "--3"])
def test_int_setting_rejects_a_non_integer(monkeypatch, raw):
    monkeypatch.setenv("SEARCH_MAX_ARTICLES", raw)
    with pytest.raises(SettingError, match="SEARCH_MAX_ARTICLES") as caught:
        settings.get("max_articles")
    assert "expected a whole number" in str(caught.value)


@pytest.mark.parametrize("raw", ["soon", "1.2.3", "ten"])
def test_float_setting_rejects_a_non_number(monkeypatch, raw):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", raw)
    with pytest.raises(SettingError, match="SEARCH_WRITE_WAIT") as caught:
        settings.get("write_wait")
    assert "expected a number" in str(caught.value)


@pytest.mark.parametrize("raw", ["0", "-5"])
def test_int_setting_below_its_minimum_is_rejected(monkeypatch, raw):
    monkeypatch.setenv("SEARCH_MAX_PER_PAGE", raw)
    with pytest.raises(SettingError, match="SEARCH_MAX_PER_PAGE") as caught:
        settings.get("max_per_page")
    assert "from 1 to" in str(caught.value)


def test_float_setting_below_its_minimum_is_rejected(monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "-0.5")
    with pytest.raises(SettingError, match="SEARCH_WRITE_WAIT") as caught:
        settings.get("write_wait")
    assert "from 0 to" in str(caught.value)


def test_setting_error_is_a_value_error():
    assert issubclass(SettingError, ValueError)


def test_check_passes_with_defaults_and_good_values(monkeypatch):
    settings.check()
    monkeypatch.setenv("SEARCH_MAX_ARTICLES", "5")
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "1.5")
    settings.check()


def test_check_reports_every_bad_setting_together(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_ARTICLES", "lots")
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "-1")
    monkeypatch.setenv("SEARCH_MAX_DEPTH", "0")
    monkeypatch.setenv("SEARCH_MAX_PER_PAGE", "20")  # good: not reported
    with pytest.raises(SettingError) as caught:
        settings.check()
    message = str(caught.value)
    assert "SEARCH_MAX_ARTICLES" in message
    assert "SEARCH_WRITE_WAIT" in message
    assert "SEARCH_MAX_DEPTH" in message
    assert "SEARCH_MAX_PER_PAGE" not in message


def test_every_env_name_is_search_and_the_upper_name():
    assert SETTINGS
    for name, setting in SETTINGS.items():
        assert setting.name == name
        assert setting.env == "SEARCH_" + name.upper()
    assert SETTINGS["max_field_bytes"].env == "SEARCH_MAX_FIELD_BYTES"


def test_secret_settings_are_the_keys():
    assert {name for name, s in SETTINGS.items() if s.secret} == {"api_key", "read_key"}


def test_setting_parse_directly():
    setting = Setting("example", 3, "an example", minimum=2)
    assert setting.env == "SEARCH_EXAMPLE"
    assert setting.parse("1_000") == 1000
    with pytest.raises(SettingError, match="SEARCH_EXAMPLE"):
        setting.parse("1")


@pytest.mark.parametrize("raw", ["nan", "NaN"])
def test_nan_is_not_a_valid_number(monkeypatch, raw):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", raw)
    with pytest.raises(SettingError, match="SEARCH_WRITE_WAIT"):
        settings.get("write_wait")


@pytest.mark.parametrize("key", ["clé-secrète", " padded", "tab\tinside", "line\nbreak"])
def test_a_key_that_no_header_could_carry_is_refused(monkeypatch, key):
    monkeypatch.setenv("SEARCH_API_KEY", key)
    with pytest.raises(SettingError, match="SEARCH_API_KEY"):
        settings.get("api_key")
    monkeypatch.setenv("SEARCH_API_KEY", "ok-key_123")
    assert settings.get("api_key") == "ok-key_123"
