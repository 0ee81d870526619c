"""Small serving-script patterns, each with the problems expected by hand (the kinds of
cfglint.imageflow.problems; the unresized-input warning is left out, it is covered by the fixtures).
The scripts share a Detectron2 head that builds a model-zoo predictor (BGR, normalizing, short edge
800)."""
from __future__ import annotations

import pytest

from cfglint.imageflow import analyze_file, problems

HEAD_D2 = """
import cv2, torch, numpy as np
from PIL import Image
from detectron2 import model_zoo
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
from detectron2.data.detection_utils import read_image
cfg = get_cfg()
cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
predictor = DefaultPredictor(cfg)
"""

PATTERNS = {
 "read_image_rgb": ("img = read_image('a.jpg', format='RGB')\npredictor(img)", {"predictor-channel-order"}),
 "read_image_cfg": ("img = read_image('a.jpg', format=cfg.INPUT.FORMAT)\npredictor(img)", set()),
 "pil_flip_cv": ("img = cv2.cvtColor(np.array(Image.open('a')), cv2.COLOR_RGB2BGR)\npredictor(img)", set()),
 "inplace_cvt": ("img = cv2.imread('a')\ncv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=img)\npredictor(img)", set()),
 "hack_format": ("predictor.input_format = 'BGR'\nimg = np.array(Image.open('a'))\npredictor(img)", set()),
 "div255": ("img = cv2.imread('a').astype(np.float32) / 255.0\npredictor(img)", {"model-input-scale"}),
 "stack": ("from detectron2.modeling import build_model\nm = build_model(cfg)\nims=[torch.from_numpy(cv2.imread(p)).permute(2,0,1) for p in ['a']]\nm(torch.stack(ims))", {"model-input-batch"}),
 "list_tensors": ("from detectron2.modeling import build_model\nm = build_model(cfg)\nt=torch.from_numpy(cv2.imread('a')).permute(2,0,1).float()\nm([t])", {"model-input-batch"}),
 "model_attr": ("m = predictor.model\nimport detectron2.data.transforms as T\nimg=cv2.imread('a')\nimg=T.ResizeShortestEdge([800,800],1333).get_transform(img).apply_image(img)\nm([{'image': torch.as_tensor(img.astype('float32').transpose(2,0,1))}])", set()),
 "model_rgb": ("m = predictor.model\nimport detectron2.data.transforms as T\nimg=cv2.imread('a')[..., ::-1]\nimg=T.ResizeShortestEdge([800,800],1333).get_transform(img).apply_image(img)\nm([{'image': torch.as_tensor(img.astype('float32').transpose(2,0,1))}])", {"model-channel-order"}),
 "try_except": ("try:\n    img = cv2.imread('a')\nexcept Exception:\n    img = np.array(Image.open('a'))\npredictor(img)", set()),
 "loop_carried": ("img = cv2.imread('a')\nfor i in range(3):\n    predictor(img)\n    img = img[:, :, ::-1]", set()),
 "while_frames": ("cap = cv2.VideoCapture(0)\nwhile cap.isOpened():\n    ret, frame = cap.read()\n    frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)\n    predictor(frame)", {"predictor-channel-order"}),
 "func_two_calls": ("def run(x):\n    return predictor(x)\nrun(cv2.imread('a'))\nrun(np.array(Image.open('b')))", {"predictor-channel-order"}),
 "gray": ("img = cv2.imread('a', 0)\npredictor(img)", set()),
 "unchanged": ("img = cv2.imread('a', cv2.IMREAD_UNCHANGED)\npredictor(img)", set()),
 "pil_fromarray": ("img = Image.fromarray(cv2.imread('a')).convert('RGB')\npredictor(np.array(img))", set()),
 "early_return": ("def load(p, rgb=False):\n    img = cv2.imread(p)\n    if rgb:\n        return img[:, :, ::-1]\n    return img\npredictor(load('a'))", set()),
 "early_return2": ("def load(p):\n    img = cv2.imread(p)\n    if img is None:\n        raise ValueError(p)\n    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)\npredictor(load('a'))", {"predictor-channel-order"}),
 "lambda": ("f = lambda p: cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)\npredictor(f('a'))", set()),
 "plt": ("import matplotlib.pyplot as plt\nimg = plt.imread('a.jpg')\npredictor(img)", {"predictor-channel-order"}),
 "tv_fixed": ("import torchvision.transforms as T\ntf = T.Compose([T.Resize((512, 512))])\nimg = tf(Image.open('a'))\npredictor(np.array(img)[:, :, ::-1])", {"fixed-resize-before-predictor"}),
 "decorated_nograd": ("@torch.no_grad()\ndef go(p):\n    img = cv2.imread(p)[:, :, ::-1]\n    return predictor(img)", {"predictor-channel-order"}),
 "subclass": ("class P(DefaultPredictor):\n    pass\np = P(cfg)\np(np.array(Image.open('a')))", set()),
 "global_mut": ("img = cv2.imread('a')\ndef conv():\n    global img\n    img = img[:, :, ::-1]\nconv()\npredictor(img)", set()),
 "global_fix": ("img = np.array(Image.open('a'))\ndef fix():\n    global img\n    img = img[:, :, ::-1]\nfix()\npredictor(img)", set()),
 "inplace_helper": ("def swap(x):\n    x[:] = x[..., ::-1]\nimg = np.array(Image.open('a'))\nswap(img)\npredictor(img)", set()),
 "global_list": ("inputs = []\ndef add(p):\n    inputs.append({'image': torch.from_numpy(cv2.imread(p)).float()})\nadd('a')\nfrom detectron2.modeling import build_model\nbuild_model(cfg)(inputs)", {"model-input-layout"}),
 "gen_frames": ("def frames(p):\n    cap = cv2.VideoCapture(p)\n    while True:\n        ok, f = cap.read()\n        if not ok:\n            break\n        yield cv2.cvtColor(f, cv2.COLOR_BGR2RGB)\nfor fr in frames('v.mp4'):\n    predictor(fr)", {"predictor-channel-order"}),
 "gen_clean": ("def frames(p):\n    cap = cv2.VideoCapture(p)\n    while True:\n        ok, f = cap.read()\n        yield f\nfor fr in frames('v.mp4'):\n    predictor(fr)", set()),
 "nograd_called": ("@torch.no_grad()\ndef go(img):\n    return predictor(img)\ngo(np.asarray(Image.open('a')))", {"predictor-channel-order"}),
 "other_deco": ("import functools\ndef deco(f):\n    return f\n@deco\ndef go(img):\n    return predictor(img)\ngo(np.asarray(Image.open('a')))", set()),
 "static": ("class S:\n    def __init__(self):\n        self.p = predictor\n    @staticmethod\n    def load(path):\n        return cv2.imread(path)\n    def run(self, path):\n        return self.p(self.load(path))\nS().run('a')", set()),
 "static_rgb": ("class S:\n    def __init__(self):\n        self.p = predictor\n    @staticmethod\n    def load(path):\n        return cv2.imread(path)[:, :, ::-1]\n    def run(self, path):\n        return self.p(self.load(path))\nS().run('a')", {"predictor-channel-order"}),
 "gray3": ("img = cv2.cvtColor(cv2.imread('a', cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2RGB)\npredictor(img)", set()),
 "pil_gray3": ("img = np.array(Image.open('a').convert('L').convert('RGB'))\npredictor(img)", set()),
 "identity_norm": ("import torchvision.transforms as T\nfrom detectron2.modeling import build_model\nm = build_model(cfg)\ntf = T.Compose([T.PILToTensor(), T.Normalize([0, 0, 0], [1, 1, 1])])\nm([{'image': tf(Image.open('a')).float()}])", {"model-channel-order"}),
 "alpha_dropped_rgb": ("img = np.array(Image.open('a.png'))[:, :, :3]\npredictor(img)", {"predictor-channel-order"}),
 "alpha_dropped_bgr": ("img = cv2.imread('a.png', cv2.IMREAD_UNCHANGED)[..., :3]\npredictor(img)", set()),
 "mmcv_video_read": ("import mmcv\nfrom mmdet.apis import inference_detector, init_detector\nm = init_detector('c.py', 'w.pth')\n"
                     "video = mmcv.VideoReader('v.mp4')\nframe = mmcv.bgr2rgb(video.read())\ninference_detector(m, frame)",
                     {"inference-channel-order"}),
 "main_guard_global": ("def handle(path):\n    return predictor2(np.asarray(Image.open(path)))\n"
                       "if __name__ == '__main__':\n    predictor2 = DefaultPredictor(cfg)",
                       {"predictor-channel-order"}),
 "optional_import": ("try:\n    import imageio\nexcept ImportError:\n    imageio = None\npredictor(imageio.imread('a'))",
                     {"predictor-channel-order"}),
 "other_guard_merges": ("import sys\nif len(sys.argv) > 2:\n    predictor = None\npredictor(np.asarray(Image.open('a')))", set()),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern(name, tmp_path):
    body, expected = PATTERNS[name]
    script = tmp_path / "serve.py"
    script.write_text(HEAD_D2 + body + "\n")
    got = {p.kind for p in problems(analyze_file(str(script)))} - {"unresized-model-input"}
    assert got == expected


MERGE_LIST_IDENTITY = """
import cv2, torch
from detectron2 import model_zoo
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
cfg = get_cfg()
cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
cfg.merge_from_list(["MODEL.PIXEL_MEAN", MEAN, "MODEL.PIXEL_STD", [1.0, 1.0, 1.0], "MODEL.DEVICE", "cpu"])
predictor = DefaultPredictor(cfg)
img = cv2.imread("a.jpg").astype("float32") - [103.53, 116.28, 123.675]
img = predictor.aug.get_transform(img).apply_image(img)
predictor.model([{"image": torch.as_tensor(img.transpose(2, 0, 1))}])
"""


@pytest.mark.parametrize("mean,expected", [("[0.0, 0.0, 0.0]", set()), ("[103.53, 116.28, 123.675]",
                                                                          {"double-normalization"}),
                                           ("mean_from_somewhere", set())])
def test_merge_from_list_states_the_models_statistics(tmp_path, mean, expected):
    script = tmp_path / "serve.py"
    script.write_text(MERGE_LIST_IDENTITY.replace("MEAN,", f"{mean},", 1))
    assert {p.kind for p in problems(analyze_file(str(script)))} == expected
