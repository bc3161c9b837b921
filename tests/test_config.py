from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config
from tests.conftest import ConfigWriter


def test_defaults_load(write_config: ConfigWriter) -> None:
    config = load_config(write_config())
    assert config.bot.persona == "companion"
    assert config.cache.backend == "memory"
    assert config.llm.providers == ()
    assert config.persona.traits["empathy"] == 0.8


def test_the_shipped_config_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[1] / "config.toml")
    assert set(config.personas) >= {"companion"}


def test_providers_are_parsed(write_config: ConfigWriter) -> None:
    config = load_config(
        write_config(
            '[[llm.providers]]\nname = "local"\nbase_url = "http://127.0.0.1:1/v1"\n'
            'model = "m"\ntimeout_s = 3\nextra_body = { top_k = 5 }\n'
        )
    )
    (provider,) = config.llm.providers
    assert provider.timeout_s == 3.0
    assert provider.extra_body == {"top_k": 5}


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[bot]\npersona = 3", "bot.persona"),
        ("[bot]\nnmae = 'x'", "bot.nmae"),
        ("[limits]\nrate_capacity = -1", "limits.rate_capacity"),
        ("[cache]\nbackend = 'memcached'", "cache.backend"),
        ("[telegram]\nenabled = 'yes'", "telegram.enabled"),
        ("[telegram]\nadmins = 'me'", "telegram.admins"),
        ("[bot]\npersona = 'nobody'", "bot.persona"),
        ("[bot]\ntimezone = 'Mars/Olympus'", "bot.timezone"),
        ("[[llm.providers]]\nname = 'x'\nmodel = 'm'", "llm.providers[0].base_url"),
        (
            "[[llm.providers]]\nname='x'\nmodel='m'\nbase_url='ftp://x'",
            "llm.providers[0].base_url",
        ),
        ("[nonsense]\nx = 1", "[nonsense]"),
        ("[personas.odd]\ndescription = 'x'\n[personas.odd.traits]\nhumor = 2", "personas.odd"),
    ],
)
def test_bad_values_name_their_key(write_config: ConfigWriter, toml: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(toml))
    message = str(caught.value)
    assert key in message
    assert "\n" not in message


def test_out_of_range_trait_is_refused(write_config: ConfigWriter) -> None:
    path = write_config()
    path.write_text(path.read_text().replace("humor = 0.5", "humor = 1.5"))
    with pytest.raises(ConfigError, match=r"personas\.companion\.traits\.humor"):
        load_config(path)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_bytes(b"[bot\n\x00\xff")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_config(broken)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_cli_exits_2_with_one_line(
    write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config("[storage]\nbusy_timeout_ms = 'soon'")
    assert main(["migrate", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "storage.busy_timeout_ms" in err


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
