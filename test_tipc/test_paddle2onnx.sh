#!/usr/bin/env bash
# TIPC paddle2onnx driver: convert an exported Paddle model to ONNX with the paddle2onnx CLI, then restore the
# config's faces with ONNX Runtime through deploy/python/infer.py.
#
#   bash test_tipc/prepare.sh test_tipc/configs/GFPGAN/model_linux_gpu_normal_normal_paddle2onnx_python_linux_cpu.txt paddle2onnx_infer
#   bash test_tipc/test_paddle2onnx.sh test_tipc/configs/GFPGAN/model_linux_gpu_normal_normal_paddle2onnx_python_linux_cpu.txt
#
# 13-line config (test_tipc/docs/test_paddle2onnx.md). Logs and results_paddle2onnx.log go to
# test_tipc/output/<model_name>/paddle2onnx_infer/; the exit code is 1 if a command failed.
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: bash test_tipc/test_paddle2onnx.sh CONFIG" >&2
    exit 2
fi
FILENAME=$(realpath "$1")
cd "$(dirname "$(realpath "$0")")/.." || exit 2
source test_tipc/common_func.sh

tipc_load_config "$FILENAME" 13 "a paddle2onnx config" || exit 2

model_name=$(value 1)
python=$(value 2)
paddle2onnx_cmd=$(value 3)
save_file=$(value 7)
if ! "$python" -c "import paddle2onnx, onnxruntime" 2>/dev/null; then
    echo "error: '$python' cannot import paddle2onnx and onnxruntime: install requirements.txt (README)" >&2
    exit 2
fi

LOG_PATH="./test_tipc/output/${model_name}/paddle2onnx_infer"
mkdir -p "$LOG_PATH"  # prepare.sh may have put the inference model here
status_log="${LOG_PATH}/results_paddle2onnx.log"
: > "$status_log"
rm -f "$save_file"

convert_params=""
for i in 4 5 6 7 8 9; do
    convert_params="${convert_params} $(tipc_param "$(key "$i")" "$(value "$i")")"
done
tipc_run "$model_name" "$status_log" "${LOG_PATH}/trans_model.log" "${paddle2onnx_cmd} ${convert_params}"
cmd="${python} $(value 10) $(tipc_param "$(key 12)" "$(value 12)") $(tipc_param "$(key 11)" "$save_file")"
tipc_run "$model_name" "$status_log" "${LOG_PATH}/paddle2onnx_infer_cpu.log" "$cmd"
tipc_finish "$status_log"
