#!/usr/bin/env bash
# TIPC train -> eval -> export -> Paddle Inference driver for the 51-line train_infer_python.txt configs.
#
#   bash test_tipc/test_train_inference_python.sh test_tipc/configs/GFPGAN/train_infer_python.txt lite_train_lite_infer
#   bash test_tipc/test_train_inference_python.sh test_tipc/configs/GPEN/train_infer_python.txt whole_infer [GPU_ID]
#
# Modes: lite_train_lite_infer, lite_train_whole_infer, whole_train_whole_infer (train, eval, export, infer) and
# whole_infer (export the checkpoints of infer_model, then infer). Run test_tipc/prepare.sh with the same config
# and mode first. Every command gets its own log and one line in
# test_tipc/output/<model_name>/<MODE>/results_python.log; a failed step does not stop the next ones, and the
# driver exits 1 if any command failed. Each run starts from an empty <MODE> folder.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: bash test_tipc/test_train_inference_python.sh CONFIG MODE [GPU_ID]" >&2
    exit 2
fi
FILENAME=$(realpath "$1")
MODE="$2"
GPUID="${3:-}"
cd "$(dirname "$(realpath "$0")")/.." || exit 2
source test_tipc/common_func.sh

case "$MODE" in
    lite_train_lite_infer|lite_train_whole_infer|whole_train_whole_infer|whole_infer) ;;
    *) echo "error: unknown MODE '$MODE' (lite_train_lite_infer, lite_train_whole_infer, whole_infer, whole_train_whole_infer)" >&2
       exit 2 ;;
esac
tipc_load_config "$FILENAME" 51 "train_infer_python.txt" || exit 2

model_name=$(value 1)
python=$(value 2)
gpu_list=$(value 3)
use_gpu_key=$(key 4); use_gpu_list=$(value 4)
autocast_key=$(key 5); autocast_list=$(value 5)
epoch_key=$(key 6); epoch_num=$(tipc_mode_value "$(value 6)" "$MODE")
save_model_key=$(key 7)
batch_key=$(key 8); batch_num=$(tipc_mode_value "$(value 8)" "$MODE")
pretrain_key=$(key 9); pretrain_value=$(value 9)
train_model_name=$(value 10)
train_infer_img_dir=$(value 11)
train_param_key1=$(key 12); train_param_value1=$(value 12)
trainer_list=$(value 14)
eval_py=$(value 23)
eval_key1=$(key 24); eval_value1=$(value 24)
save_infer_key=$(key 27)
export_weight_key=$(key 28)
inference_dir=$(value 35)
infer_model_list=$(value 36)
infer_export_list=$(value 37)
infer_quant_list=$(value 38)
inference_py=$(value 39)
use_gpu_infer_key=$(key 40); use_gpu_infer_list=$(value 40)
mkldnn_key=$(key 41); mkldnn_list=$(value 41)
threads_key=$(key 42); threads_list=$(value 42)
batch_infer_key=$(key 43); batch_infer_list=$(value 43)
trt_key=$(key 44); trt_list=$(value 44)
precision_key=$(key 45); precision_list=$(value 45)
infer_model_key=$(key 46)
image_dir_key=$(key 47); infer_img_dir=$(value 47)
benchmark_key=$(key 49); benchmark_value=$(value 49)
infer_key1=$(key 50); infer_value1=$(value 50)

LOG_PATH="./test_tipc/output/${model_name}/${MODE}"
rm -rf "$LOG_PATH"
mkdir -p "$LOG_PATH"
status_log="${LOG_PATH}/results_python.log"
: > "$status_log"

# func_inference MODEL_DIR IMAGE_DIR GPU_TAG QUANT: every inference combination of L41-L46 on one model.
func_inference() {
    local model_dir="$1" img_dir="$2" gpu_tag="$3" quant="$4"
    local device mkldnn threads bs precision trt log cmd image_param
    local -a devices mkldnns threads_all batches precisions trts
    tipc_split "$use_gpu_infer_list" devices
    tipc_split "$mkldnn_list" mkldnns
    tipc_split "$threads_list" threads_all
    tipc_split "$batch_infer_list" batches
    tipc_split "$precision_list" precisions
    tipc_split "$trt_list" trts
    image_param=$(tipc_param "$image_dir_key" "$img_dir")
    for device in "${devices[@]}"; do
        case "$device" in
            False|cpu)
                for mkldnn in "${mkldnns[@]}"; do
                    for threads in "${threads_all[@]}"; do
                        for bs in "${batches[@]}"; do
                            for precision in "${precisions[@]}"; do
                                if [ "$mkldnn" = "False" ] && { [ "$precision" = "fp16" ] || [ "$precision" = "bf16" ]; }; then
                                    continue
                                fi
                                if [ "$quant" = "True" ] && [ "$precision" != "int8" ]; then
                                    continue
                                fi
                                log="${LOG_PATH}/python_infer_cpu_gpus_${gpu_tag}_usemkldnn_${mkldnn}_threads_${threads}_precision_${precision}_batchsize_${bs}.log"
                                cmd="${python} ${inference_py} $(tipc_param "$use_gpu_infer_key" "$device") $(tipc_param "$mkldnn_key" "$mkldnn") $(tipc_param "$threads_key" "$threads") $(tipc_param "$infer_model_key" "$model_dir") $(tipc_param "$batch_infer_key" "$bs") ${image_param} $(tipc_param "$benchmark_key" "$benchmark_value") $(tipc_param "$precision_key" "$precision") $(tipc_param "$infer_key1" "$infer_value1")"
                                tipc_run "$model_name" "$status_log" "$log" "$cmd"
                            done
                        done
                    done
                done ;;
            True|gpu)
                for trt in "${trts[@]}"; do
                    for precision in "${precisions[@]}"; do
                        if [ "$quant" != "True" ] && [ "$precision" = "int8" ]; then continue; fi
                        if [ "$trt" = "False" ] && [ "$precision" != "fp32" ]; then continue; fi
                        for bs in "${batches[@]}"; do
                            log="${LOG_PATH}/python_infer_gpu_gpus_${gpu_tag}_usetrt_${trt}_precision_${precision}_batchsize_${bs}.log"
                            cmd="${python} ${inference_py} $(tipc_param "$use_gpu_infer_key" "$device") $(tipc_param "$trt_key" "$trt") $(tipc_param "$precision_key" "$precision") $(tipc_param "$infer_model_key" "$model_dir") $(tipc_param "$batch_infer_key" "$bs") ${image_param} $(tipc_param "$benchmark_key" "$benchmark_value") $(tipc_param "$infer_key1" "$infer_value1")"
                            tipc_run "$model_name" "$status_log" "$log" "$cmd"
                        done
                    done
                done ;;
            *) echo "skip: '$device' is neither True/gpu nor False/cpu (L41)" ;;
        esac
    done
}

if [ "$MODE" = "whole_infer" ]; then
    [ -n "$GPUID" ] && export CUDA_VISIBLE_DEVICES="$GPUID"
    gpu_tag="${GPUID:--1}"
    declare -a entries exporters quants
    tipc_split "$infer_model_list" entries
    tipc_split "$infer_export_list" exporters
    tipc_split "$infer_quant_list" quants
    for i in "${!entries[@]}"; do
        entry="${entries[$i]}"
        exporter="${exporters[$i]:-null}"
        if ! tipc_is_null "$exporter"; then
            cmd="${python} ${exporter} $(tipc_param "$export_weight_key" "$entry") $(tipc_param "$save_infer_key" "$entry")"
            tipc_run "$model_name" "$status_log" "${LOG_PATH}_export_${i}.log" "$cmd"
        fi
        func_inference "$entry" "$infer_img_dir" "$gpu_tag" "${quants[$i]:-False}"
    done
    tipc_finish "$status_log"
    exit $?
fi

declare -a gpus use_gpus autocasts trainers
tipc_split "$gpu_list" gpus
tipc_split "$use_gpu_list" use_gpus
tipc_split "$autocast_list" autocasts
tipc_split "$trainer_list" trainers
for g_index in "${!gpus[@]}"; do
    gpu="${gpus[$g_index]}"
    use_gpu="${use_gpus[$g_index]:-${use_gpus[0]:-null}}"
    ips=""
    nodes=1
    if [ "${gpu#*;}" != "$gpu" ]; then  # "ip1,ip2;0,1": several machines
        ips="${gpu%%;*}"
        gpu="${gpu#*;}"
        nodes=$(awk -F',' '{print NF}' <<< "$ips")
    fi
    if [ "$gpu" = "-1" ]; then
        launcher="${python}"
        unset CUDA_VISIBLE_DEVICES
    elif [ "${#gpu}" -le 2 ]; then
        launcher="${python}"
        export CUDA_VISIBLE_DEVICES="$gpu"
    else
        launcher="${python} -m paddle.distributed.launch ${ips:+--ips=${ips}} --gpus=${gpu}"
        export CUDA_VISIBLE_DEVICES="${gpu%%,*}"
    fi
    for autocast in "${autocasts[@]}"; do
        for trainer in "${trainers[@]}"; do
            train_slot=15
            for slot in 16 17 18 19 20; do
                [ "$(key "$slot")" = "$trainer" ] && train_slot=$slot
            done
            run_train=$(value "$train_slot")
            run_export=$(value $((train_slot + 14)))
            tipc_is_null "$run_train" && continue
            node_tag=""
            [ "$nodes" -gt 1 ] && node_tag="_nodes_${nodes}"
            save_log="${LOG_PATH}/${trainer}_gpus_${gpu}_autocast_${autocast}${node_tag}"
            step_log="${LOG_PATH}/${trainer}_gpus_${gpu}_autocast_${autocast}_nodes_${nodes}"
            cmd="${launcher} ${run_train} $(tipc_param "$use_gpu_key" "$use_gpu") $(tipc_param "$save_model_key" "$save_log") $(tipc_param "$epoch_key" "$epoch_num") $(tipc_param "$pretrain_key" "$pretrain_value") $(tipc_param "$batch_key" "$batch_num") $(tipc_param "$train_param_key1" "$train_param_value1") $(tipc_param "$autocast_key" "$autocast")"
            tipc_run "$model_name" "$status_log" "${save_log}.log" "$cmd"
            if ! tipc_is_null "$eval_py"; then
                cmd="${python} ${eval_py} $(tipc_param "$pretrain_key" "${save_log}/${train_model_name}") $(tipc_param "$use_gpu_key" "$use_gpu") $(tipc_param "$eval_key1" "$eval_value1")"
                tipc_run "$model_name" "$status_log" "${step_log}_eval.log" "$cmd"
            fi
            if ! tipc_is_null "$run_export"; then
                cmd="${python} ${run_export} $(tipc_param "$export_weight_key" "${save_log}/${train_model_name}") $(tipc_param "$save_infer_key" "$save_log")"
                tipc_run "$model_name" "$status_log" "${step_log}_export.log" "$cmd"
                model_dir="$save_log"
                if ! tipc_is_null "$inference_dir" && [ "$inference_dir" != "##" ]; then
                    model_dir="${save_log}/${inference_dir}"
                fi
                quant=False
                [ "$trainer" = "pact_train" ] && quant=True
                func_inference "$model_dir" "$train_infer_img_dir" "$gpu" "$quant"
            fi
        done
    done
    unset CUDA_VISIBLE_DEVICES
done
tipc_finish "$status_log"
