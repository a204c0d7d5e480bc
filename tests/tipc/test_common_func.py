"""test_tipc/common_func.sh: the config parser and status helpers every TIPC driver relies on."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bash(script, cwd=ROOT):
    """Run ``script`` in bash after sourcing common_func.sh; (exit code, stdout, stderr)."""
    result = subprocess.run(["bash", "-c", f"source test_tipc/common_func.sh\n{script}"], cwd=cwd,
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def test_read_config_drops_blank_lines_strips_cr_and_keeps_a_last_line_without_newline(tmp_path):
    config = tmp_path / "c.txt"
    config.write_bytes(b"===banner===\r\nmodel_name:GFPGAN\r\n\r\n   \npython:python3\r\n--use_gpu:True|False")
    code, out, _ = bash(f'tipc_read_config "{config}" lines; printf "%s\\n" "${{#lines[@]}}" "${{lines[@]}}"')
    assert code == 0
    assert out.splitlines() == ["4", "===banner===", "model_name:GFPGAN", "python:python3", "--use_gpu:True|False"]


def test_read_config_of_a_missing_file_fails_with_one_line(tmp_path):
    code, _, err = bash(f'tipc_read_config "{tmp_path}/none.txt" lines')
    assert code == 1 and err.strip() == f"error: TIPC config {tmp_path}/none.txt not found"


def test_check_config_rejects_a_second_colon_naming_the_line(tmp_path):
    config = tmp_path / "c.txt"
    config.write_text("===x===\nmodel_name:GPEN\nurl:https://example.com\n##\n")
    code, _, err = bash(f'tipc_read_config "{config}" lines && tipc_check_config "{config}" lines')
    assert code == 1
    assert "line 3 ('url:https://example.com'): a second ':'" in err


def test_check_config_accepts_banners_placeholders_and_key_only_slots(tmp_path):
    config = tmp_path / "c.txt"
    config.write_text("===========================train_params===========================\n##\n--model_dir:\n"
                      "null:null\n2onnx: paddle2onnx\n")
    code, _, err = bash(f'tipc_read_config "{config}" lines && tipc_check_config "{config}" lines')
    assert code == 0, err


@pytest.mark.parametrize("key, value, expected", [
    ("-o Global.device", "cpu", "-o Global.device=cpu"),
    ("--model_dir", "./a b", "--model_dir=./a b"),
    ("null", "x", ""), ("--k", "null", ""), ("--k", "", ""), ("--k", " ", ""),
])
def test_param_emits_key_equals_value_unless_null(key, value, expected):
    code, out, err = bash(f'printf "[%s]" "$(tipc_param "{key}" "{value}")"')
    assert code == 0 and out == f"[{expected}]" and err == ""


def test_mode_value_resolves_the_current_mode_and_is_empty_for_an_unlisted_one():
    spec = "lite_train_lite_infer=2|lite_train_whole_infer=20|whole_train_whole_infer=800000"
    code, out, _ = bash(f'printf "[%s]" "$(tipc_mode_value "{spec}" lite_train_whole_infer)" '
                        f'"$(tipc_mode_value "{spec}" whole_infer)"')
    assert code == 0 and out == "[20][]"


def test_key_and_value_split_at_the_first_colon_and_keep_leading_spaces():
    code, out, _ = bash('printf "[%s]" "$(tipc_key "2onnx: paddle2onnx")" "$(tipc_value "2onnx: paddle2onnx")" '
                        '"$(tipc_value "##")"')
    assert out == "[2onnx][ paddle2onnx][]"


def test_run_records_the_programs_own_exit_code_and_keeps_ifs(tmp_path):
    status = tmp_path / "results.log"
    script = (f'tipc_run M "{status}" "{tmp_path}/ok.log" "echo hi   there"; '
              f'tipc_run M "{status}" "{tmp_path}/bad.log" "python -c \'import sys; sys.exit(3)\'"; echo "rc=$?"; '
              f'printf "[%s]" "$IFS"; tipc_finish "{status}"; echo "finish=$?"')
    code, out, _ = bash(script)
    lines = status.read_text().splitlines()
    assert lines == [f"Run successfully with command - M - echo hi there > {tmp_path}/ok.log 2>&1 - {tmp_path}/ok.log",
                     f"Run failed with command - M - python -c 'import sys; sys.exit(3)' > {tmp_path}/bad.log 2>&1 - "
                     f"{tmp_path}/bad.log"]
    assert (tmp_path / "ok.log").read_text() == "hi there\n"
    assert "rc=3" in out and "[ \t\n]" in out
    assert "1 command(s) succeeded, 1 failed" in out and "finish=1" in out
    assert "\033" not in status.read_text()  # colour on the console only
