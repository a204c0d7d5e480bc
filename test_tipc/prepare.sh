#!/usr/bin/env bash
# Prepare what a TIPC mode needs, offline (nothing is downloaded or installed).
#
#   bash test_tipc/prepare.sh test_tipc/configs/GFPGAN/train_infer_python.txt lite_train_lite_infer
#   bash test_tipc/prepare.sh test_tipc/configs/GPEN/train_infer_python.txt whole_infer
#   bash test_tipc/prepare.sh test_tipc/configs/GFPGAN/model_linux_gpu_normal_normal_serving_python_linux_gpu_cpu.txt serving_infer
#   bash test_tipc/prepare.sh test_tipc/configs/GFPGAN/model_linux_gpu_normal_normal_paddle2onnx_python_linux_cpu.txt paddle2onnx_infer
#   TIPC_TRAIN_DIR=~/ffhq_512 bash test_tipc/prepare.sh test_tipc/configs/GPEN/train_infer_python.txt whole_train_whole_infer
#
# lite modes: faces from scikit-image's photos (test_tipc/make_data.py), degraded by the project's training
#   degradation (tools/make_degraded.py): test_tipc/data/faces_lite/{train/hq, train/landmarks.json, val/{lq,gt},
#   infer/{lq,gt}}.
# whole_infer: 8 degraded 512 px faces in test_tipc/data/faces_whole/infer/, and the checkpoint named by the
#   config's infer_model (converted official weights from pretrained/ if present, else seeded random weights).
# whole_train_whole_infer: the lite set with the training faces taken from $TIPC_TRAIN_DIR (aligned faces).
# serving_infer / paddle2onnx_infer: the lite faces and an inference model exported from a seeded random
#   initialisation of the TIPC network into the folder the config names.
# Safe to run twice: every output is rebuilt.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: bash test_tipc/prepare.sh CONFIG MODE" >&2
    exit 2
fi
FILENAME=$(realpath "$1")
MODE="$2"
cd "$(dirname "$(realpath "$0")")/.."
source test_tipc/common_func.sh

tipc_read_config "$FILENAME" lines
tipc_check_config "$FILENAME" lines
model_name=$(tipc_value "${lines[1]}")
python=$(tipc_value "${lines[2]}")

case "$model_name" in
    GFPGAN) tipc_yml=test_tipc/configs/GFPGAN/gfpgan_tipc.yml; release_config=gfpgan_v1.4 ;;
    GPEN) tipc_yml=test_tipc/configs/GPEN/gpen_tipc.yml; release_config=gpen_bfr_512 ;;
    *) echo "error: prepare.sh knows the models GFPGAN and GPEN, not '$model_name' ($FILENAME line 2)" >&2
       exit 2 ;;
esac
if ! "$python" -c "import paddle" 2>/dev/null; then
    echo "error: '$python' cannot import paddle: install requirements.txt first (README)" >&2
    exit 2
fi

DATA=test_tipc/data
LITE="$DATA/faces_lite"

# make_lite_faces [TRAIN_FROM_DIR]: the lite training / validation / inference faces.
make_lite_faces() {
    rm -rf "$LITE"
    "$python" test_tipc/make_data.py --output "$LITE" --size 32 ${1:+--train_from "$1"}
    "$python" tools/make_degraded.py -i "$LITE/val/hq" -o "$LITE/val" -c "$tipc_yml" --seed 0
    "$python" tools/make_degraded.py -i "$LITE/infer_hq" -o "$LITE/infer" --seed 1
    rm -rf "$LITE/val/hq" "$LITE/infer_hq"
}

# export_random MODEL_DIR: the TIPC network at a seeded random initialisation, exported to MODEL_DIR.
export_random() {
    "$python" tools/export_model.py -c "$tipc_yml" --random_init --overwrite --output_dir "$1"
}

# model_dir_of KEY: the value of the config line whose key is KEY.
model_dir_of() {
    local line
    for line in "${lines[@]}"; do
        if [ "$(tipc_key "$line")" = "$1" ]; then
            tipc_value "$line"
            return 0
        fi
    done
    echo "error: $FILENAME has no '$1:' line" >&2
    return 1
}

case "$MODE" in
    lite_train_lite_infer|lite_train_whole_infer)
        make_lite_faces ;;
    whole_train_whole_infer)
        if [ -z "${TIPC_TRAIN_DIR:-}" ] || [ ! -d "$TIPC_TRAIN_DIR" ]; then
            echo "error: whole_train_whole_infer trains on your aligned faces (FFHQ): set TIPC_TRAIN_DIR=<folder>" >&2
            exit 2
        fi
        make_lite_faces "$TIPC_TRAIN_DIR" ;;
    whole_infer)
        rm -rf "$DATA/faces_whole"
        "$python" test_tipc/make_data.py --output "$DATA/faces_whole" --count 0 --val_count 0 --infer_count 8
        "$python" tools/make_degraded.py -i "$DATA/faces_whole/infer_hq" -o "$DATA/faces_whole/infer" --seed 2
        rm -rf "$DATA/faces_whole/infer_hq" "$DATA/faces_whole/val"
        infer_models=$(model_dir_of infer_model)
        tipc_split "$infer_models" entries
        for entry in "${entries[@]}"; do
            rm -rf "$entry"  # the folder a previous run exported into
            "$python" test_tipc/make_checkpoint.py -c "$release_config" --output "${entry}.pdparams"
        done ;;
    serving_infer)
        make_lite_faces
        export_random "$(model_dir_of --dirname)" ;;
    paddle2onnx_infer)
        make_lite_faces
        export_random "$(model_dir_of --model_dir)" ;;
    *)
        echo "error: unknown MODE '$MODE' (lite_train_lite_infer, lite_train_whole_infer, whole_train_whole_infer, whole_infer, serving_infer, paddle2onnx_infer)" >&2
        exit 2 ;;
esac
echo "prepare.sh: $model_name $MODE ready"
