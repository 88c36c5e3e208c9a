import pytest

from search import settings
from search.settings import SETTINGS, Setting, SettingError


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


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("max_articles", "10_000", 10_000),  # underscores
        ("max_per_page", " 25 ", 25),  # surrounding spaces
        ("write_wait", "0.25", 0.25),
        ("commit_seconds", "3", 3.0),  # a float from an integer
        ("write_wait", "0", 0.0),  # zero: its minimum is zero
    ],
)
def test_a_number_is_parsed_to_the_type_of_its_default(monkeypatch, name, raw, expected):
    monkeypatch.setenv(SETTINGS[name].env, raw)
    value = settings.get(name)
    assert value == expected
    assert type(value) is type(expected) is type(SETTINGS[name].default)


def test_string_settings_are_taken_as_given(monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", "s3cret key")
    monkeypatch.setenv("SEARCH_CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("SEARCH_INDEX", "/tmp/somewhere")
    assert settings.get("api_key") == "s3cret key"
    assert settings.get("cors_origins") == "https://a.example,https://b.example"
    assert settings.get("index") == "/tmp/somewhere"


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("max_articles", "many", "expected a whole number"),
        ("max_articles", "12abc", "expected a whole number"),
        ("max_articles", "1.5", "expected a whole number"),
        ("max_articles", "1e3", "expected a whole number"),
        ("max_articles", "--3", "expected a whole number"),
        ("write_wait", "soon", "expected a number"),
        ("write_wait", "1.2.3", "expected a number"),
        ("write_wait", "ten", "expected a number"),
        ("max_per_page", "0", "from 1 to"),  # below its minimum
        ("max_per_page", "-5", "from 1 to"),
        ("write_wait", "-0.5", "from 0 to"),
        ("write_wait", "nan", "from 0 to"),  # NaN is not a number here
        ("write_wait", "NaN", "from 0 to"),
    ],
)
def test_a_value_its_setting_cannot_take_is_refused_naming_the_variable(
    monkeypatch, name, raw, message
):
    env = SETTINGS[name].env
    monkeypatch.setenv(env, raw)
    with pytest.raises(SettingError, match=env) as caught:
        settings.get(name)
    assert message in str(caught.value)


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


@pytest.mark.parametrize("key", ["clé-secrète", " padded", "tab\tinside", "line\nbreak"])
def test_a_key_that_no_header_could_carry_is_refused(monkeypatch, key):
    monkeypatch.setenv("SEARCH_API_KEY", key)
    with pytest.raises(SettingError, match="SEARCH_API_KEY"):
        settings.get("api_key")
    monkeypatch.setenv("SEARCH_API_KEY", "ok-key_123")
    assert settings.get("api_key") == "ok-key_123"
