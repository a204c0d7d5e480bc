#!/usr/bin/env bash
# TIPC Paddle Serving driver: exported model -> serving_server/ + serving_client/ -> pipeline service in the
# background -> HTTP client -> service stopped by its PID.
#
#   bash test_tipc/prepare.sh test_tipc/configs/GFPGAN/model_linux_gpu_normal_normal_serving_python_linux_gpu_cpu.txt serving_infer
#   bash test_tipc/test_serving_infer_python.sh test_tipc/configs/GFPGAN/model_linux_gpu_normal_normal_serving_python_linux_gpu_cpu.txt [GPU_ID]
#
# 14-line config (test_tipc/docs/test_serving_infer_python.md). Logs and results_serving.log go to
# test_tipc/output/<model_name>/serving_infer/; the exit code is 1 if a command failed. The service is waited
# for on 127.0.0.1:<http_port of config.yml> (at most SERVING_START_TIMEOUT seconds, default 120) and stopped,
# with its process group, when the client is done or the driver exits.
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: bash test_tipc/test_serving_infer_python.sh CONFIG [GPU_ID]" >&2
    exit 2
fi
FILENAME=$(realpath "$1")
GPUID="${2:-}"
ROOT="$(dirname "$(realpath "$0")")/.."
cd "$ROOT" || exit 2
ROOT=$(pwd)
source test_tipc/common_func.sh

tipc_load_config "$FILENAME" 14 "a serving config" || exit 2

model_name=$(value 1)
python=$(value 2)
trans_model=$(value 3)
serving_dir=$(value 9)
web_service=$(value 10)
devices_key=$(key 11); devices_list=$(value 11)
client=$(value 12)
image_key=$(key 13); image_value=$(value 13)
if ! PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python "$python" -c "import paddle_serving_server" 2>/dev/null; then
    echo "error: '$python' cannot import paddle_serving_server: install the serving extras (deploy/serving/README.md)" >&2
    exit 2
fi

LOG_PATH="${ROOT}/test_tipc/output/${model_name}/serving_infer"  # absolute: the service runs in serving_dir
mkdir -p "$LOG_PATH"
status_log="${LOG_PATH}/results_serving.log"
: > "$status_log"
START_TIMEOUT="${SERVING_START_TIMEOUT:-120}"
server_pid=""

stop_server() {
    [ -z "$server_pid" ] && return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM -- "-$server_pid" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null
        for _ in $(seq 1 20); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL -- "-$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null
    server_pid=""
}
trap stop_server EXIT

# wait_for_port PORT: 0 once 127.0.0.1:PORT accepts connections; 1 if the service died or the time ran out.
wait_for_port() {
    local port="$1" waited=0
    while [ "$waited" -lt "$((START_TIMEOUT * 2))" ]; do
        kill -0 "$server_pid" 2>/dev/null || return 1
        if "$python" -c "import socket, sys; s = socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', $port)))" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    return 1
}

convert_params=""
for i in 4 5 6 7 8; do
    convert_params="${convert_params} $(tipc_param "$(key "$i")" "$(value "$i")")"
done
tipc_run "$model_name" "$status_log" "${LOG_PATH}/python_trans_model.log" "${python} ${trans_model} ${convert_params}"

http_port=$(sed -n 's/^http_port:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "${serving_dir}/config.yml")
if [ -z "$http_port" ]; then
    echo "error: ${serving_dir}/config.yml has no http_port" >&2
    exit 2
fi
tipc_split "$devices_list" devices_all
pushd "$serving_dir" > /dev/null || exit 2
for devices in "${devices_all[@]}"; do
    if tipc_is_null "$devices"; then
        kind=cpu
        devices_param="${devices_key}="
    else
        kind=gpu
        devices_param="${devices_key}=${devices}"
        [ -n "$GPUID" ] && export CUDA_VISIBLE_DEVICES="$GPUID"
    fi
    server_log="${LOG_PATH}/python_server_${kind}.log"
    server_cmd="${python} ${web_service} ${devices_param}"
    set -f
    setsid bash -c "exec ${server_cmd}" > "$server_log" 2>&1 &
    server_pid=$!
    set +f
    if wait_for_port "$http_port"; then
        tipc_run "$model_name" "$status_log" "${LOG_PATH}/python_client_${kind}.log" \
            "${python} ${client} $(tipc_param "$image_key" "$image_value") --output_dir=${LOG_PATH}/client_output_${kind}"
        alive=0
        kill -0 "$server_pid" 2>/dev/null || alive=1  # it must still be serving after the client
        stop_server
        tipc_status "$alive" "$model_name" "${server_cmd} > ${server_log} 2>&1 &" "$server_log" "$status_log"
    else
        stop_server
        tipc_status 1 "$model_name" "${server_cmd} > ${server_log} 2>&1 & (not serving on 127.0.0.1:${http_port})" "$server_log" "$status_log"
        tail -n 20 "$server_log" | sed 's/^/    | /'
    fi
    unset CUDA_VISIBLE_DEVICES
done
popd > /dev/null || exit 2
tipc_finish "$status_log"
