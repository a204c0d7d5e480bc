"""The YAML config loader shared by every tool: names, _base_ inheritance, -o overrides and their errors."""
import pytest

from ppgan_face.config import ConfigError, apply_overrides, config_names, load_config, parse_override

PUBLIC_RESTORERS = ["gfpgan_v1", "gfpgan_v1.2", "gfpgan_v1.3", "gfpgan_v1.4",
                    "gpen_bfr_256", "gpen_bfr_512", "gpen_bfr_1024"]


def test_every_public_restorer_has_a_config():
    assert set(PUBLIC_RESTORERS) <= set(config_names())


def test_base_inheritance_merges_dicts():
    config = load_config("gfpgan_v1.3")
    assert config["model"]["type"] == "GFPGANv1Clean"
    assert config["model"]["channel_multiplier"] == 2
    assert config["checkpoint"]["file"] == "GFPGANv1.3.pth"
    assert config["checkpoint"]["state_dict_key"] == ["params_ema", "params"]  # from the base
    assert config["name"] == "gfpgan_v1.3"


def test_gpen_public_arguments():
    assert {"size": 256, "channel_multiplier": 1, "narrow": 0.5}.items() <= load_config("gpen_bfr_256")["model"].items()
    assert load_config("gpen_bfr_1024")["model"]["channel_multiplier"] == 2


def test_override_parses_yaml_values():
    config = load_config("gfpgan_v1.4", ["model.narrow=0.5", "model.sft_half=false", "restorer.input_size=256"])
    assert config["model"]["narrow"] == 0.5 and config["model"]["sft_half"] is False
    assert config["restorer"]["input_size"] == 256


def test_override_unknown_key_is_an_error_with_suggestion():
    with pytest.raises(ConfigError, match="did you mean model.narrow"):
        load_config("gfpgan_v1.4", ["model.narow=0.5"])


def test_override_can_add_a_key_explicitly():
    config = apply_overrides({"a": {"b": 1}}, ["+a.c=[1, 2]", "+d.e=x"])
    assert config == {"a": {"b": 1, "c": [1, 2]}, "d": {"e": "x"}}


@pytest.mark.parametrize("text", ["novalue", "=3", "a..b=1"])
def test_malformed_override(text):
    with pytest.raises(ConfigError):
        parse_override(text)


def test_unknown_config_name_suggests():
    with pytest.raises(ConfigError, match="did you mean gfpgan_v1.4"):
        load_config("gfpgan_v1.44")


def test_config_path_and_bad_yaml(tmp_path):
    good = tmp_path / "mine.yml"
    good.write_text("model:\n  type: X\n")
    assert load_config(str(good))["name"] == "mine"
    bad = tmp_path / "bad.yml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yml: invalid YAML"):
        load_config(str(bad))
    with pytest.raises(ConfigError, match="not found"):
        load_config(str(tmp_path / "missing.yml"))
