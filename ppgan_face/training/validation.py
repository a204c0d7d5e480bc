"""Validation during training: the EMA generator on the validation set, PSNR / SSIM with the metrics package
(BasicSR's definitions), and an image grid (LQ | output | GT) of the first sample."""
import cv2
import numpy as np
import paddle

from ppgan_face.metrics import calculate_psnr, calculate_ssim


def tensor_to_bgr(tensor):
    """N×3×H×W RGB in [-1, 1] -> list of H×W×3 BGR uint8 (BasicSR's ``tensor2img`` with min_max (-1, 1))."""
    images = ((tensor.numpy().clip(-1, 1) + 1) / 2 * 255.0).round().astype(np.uint8)
    return [cv2.cvtColor(img.transpose(1, 2, 0), cv2.COLOR_RGB2BGR) for img in images]


def validate(model, dataset, options, iteration, logger):
    crop = options.get("crop_border", 0)
    psnr, ssim, grid = [], [], None
    for index in range(len(dataset)):
        sample = dataset[index]
        lq = paddle.to_tensor(sample["lq"][None])
        out = tensor_to_bgr(model.test(lq))[0]
        gt = tensor_to_bgr(paddle.to_tensor(sample["gt"][None]))[0]
        psnr.append(calculate_psnr(out, gt, crop_border=crop))
        ssim.append(calculate_ssim(out, gt, crop_border=crop))
        if grid is None:
            grid = np.hstack([tensor_to_bgr(lq)[0], out, gt])
    values = {"val/psnr": float(np.mean(psnr)), "val/ssim": float(np.mean(ssim))}
    logger.info(f"validation @ {iteration}: psnr {values['val/psnr']:.4f} dB, ssim {values['val/ssim']:.4f} "
                f"over {len(dataset)} image(s)")
    logger.scalars(iteration, values)
    if options.get("save_img", True) and logger.enabled:
        folder = logger.output_dir / "visualization"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{iteration:08d}.png"), grid)
        logger.image("val/lq_out_gt", cv2.cvtColor(grid, cv2.COLOR_BGR2RGB), iteration)
    return values

