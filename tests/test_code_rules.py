"""fitgen-check's rules: for each, code that must be flagged and look-alikes that must not (real-world shapes)."""

from __future__ import annotations

import textwrap

import pytest

from helpers.code_problems import RULES
from helpers.fitgen_check import check_code

FLAGGED: dict[str, list[str]] = {
    "FG001": [
        "from keras.preprocessing.image import ImageDataGenerator",
        "from keras.preprocessing.image import load_img, ImageDataGenerator as IDG",
        "import keras\ngen = keras.preprocessing.image.ImageDataGenerator(rescale=1/255)",
        "from keras.preprocessing.image import (\n    DirectoryIterator,\n)",
        "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\nfrom keras.preprocessing.image import ImageDataGenerator",
    ],
    "FG002": [
        "model.fit_generator(train, epochs=5)",
        "history = net.fit_generator(\n    train_gen,\n    epochs=3,\n)",
        "score = model.evaluate_generator(val_gen)",
        "p = self.model.predict_generator(test_flow, steps=4)",
    ],
    "FG003": [
        "model.fit(gen, steps_per_epoch=gen.samples / 32)",
        "steps = n / bs\nmodel.fit(gen, steps_per_epoch=steps)",
        "model.fit(\n    gen,\n    validation_data=v,\n    validation_steps=len(v.filenames) / BATCH,\n)",
        "model.fit_generator(g, steps_per_epoch=1000 / 10)",
        "model.fit(gen, steps_per_epoch=np.ceil(n / bs))",  # a numpy.float64: TypeError too
        "import numpy as np\nmodel.fit(gen, steps_per_epoch=np.floor(n / bs))",
        "s = train.n / train.batch_size\nm.fit(train, steps_per_epoch=s, epochs=2)",
    ],
    "FG004": [
        "model.fit(gen, steps_per_epoch=gen.samples // 32)",
        "model.fit(gen, steps_per_epoch=int(gen.samples / 32))",
        "import math\nmodel.fit(gen, validation_steps=math.floor(v.n / v.batch_size))",
        "steps = n // bs + 1\nmodel.fit(gen, steps_per_epoch=steps)",
        "model.fit_generator(train, n // bs, 10)",  # the steps given positionally
    ],
    "FG005": [
        "ImageDataGenerator(shear_range=0.2)",
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator as IDG\n"
        "IDG(rescale=1./255, shear_range=.15)",
        "SHEAR = 0.3\ndatagen = tf.keras.preprocessing.image.ImageDataGenerator(\n    shear_range=SHEAR,\n)",
    ],
    "FG006": [
        "layers.RandomFlip()",
        "from keras.layers import RandomFlip\naug = keras.Sequential([RandomFlip(), RandomZoom(0.1)])",
        "tf.keras.layers.RandomFlip(seed=1)",
    ],
    "FG007": [
        "layers.RandomRotation(0.2)",
        "keras.layers.RandomRotation(20)",
        "RandomRotation(factor=(-0.5, 0.3))",
        "ANGLE = 15\nlayers.RandomRotation(ANGLE)",
    ],
    "FG008": [
        "a = ImageDataGenerator(zoom_range=0.2)\nb = layers.RandomZoom(0.2)",
        "g = ImageDataGenerator(zoom_range=[0.8, 1.2])\nlayers.RandomZoom(height_factor=0.2)",
        "ImageDataGenerator(zoom_range=0.3, horizontal_flip=True)\n"
        "keras.layers.RandomZoom((-0.3, 0.3), fill_mode='nearest')",
    ],
    "FG009": [
        "from keras.applications.resnet50 import preprocess_input\n"
        "ImageDataGenerator(preprocessing_function=preprocess_input, rescale=1./255)",
        "ImageDataGenerator(rescale=1/255, preprocessing_function=tf.keras.applications.mobilenet_v2.preprocess_input)",
        "from keras.applications.vgg16 import preprocess_input as prep\nR = 1./255\n"
        "ImageDataGenerator(preprocessing_function=prep, rescale=R)",
    ],
    "FG010": [
        "g = ImageDataGenerator(rescale=1/255, shear_range=20, validation_split=0.2)\n"
        "v = g.flow_from_directory(d, subset='validation')",
        "aug = ImageDataGenerator(horizontal_flip=True)\nval = aug.flow_from_directory(val_dir)\n"
        "model.fit(train, validation_data=val)",
        "aug = ImageDataGenerator(rotation_range=15, rescale=1./255)\n"
        "model.fit(t, validation_data=aug.flow_from_directory('data/val'))",
        "SUBSET = 'validation'\ng = ImageDataGenerator(zoom_range=0.2, validation_split=0.2)\n"
        "v = g.flow_from_directory(d, subset=SUBSET)",
    ],
    "FG011": [
        "test = gen.flow_from_directory(d)\np = model.predict(test)\nacc = (p.round() == test.classes).mean()",
        "t = ImageDataGenerator().flow_from_directory(d, shuffle=True)\nprobs = m.predict(t)\nlabels = t.classes",
        "flow = g.flow_from_directory(\n    test_dir,\n    batch_size=32,\n)\n"
        "y_true = flow.classes\ny_pred = model.predict(flow).argmax(1)",
        "t = g.flow_from_directory(d)\np = model.predict(x=t)\nok = p.round() == t.classes",
    ],
    "FG012": [
        "model.fit(gen, epochs=5, workers=4)",
        "model.fit_generator(gen, use_multiprocessing=True)",
        "m.predict(flow, max_queue_size=20)",
        "model.evaluate(\n    val,\n    workers=2,\n)",
    ],
    "FG013": [
        "g = ImageDataGenerator(rescale=1./255)\nimg = load_img(p, target_size=(64, 64))\n"
        "x = np.expand_dims(img_to_array(img), 0)\nmodel.predict(x)",
        "gen = ImageDataGenerator(rescale=1/255.)\n"
        "x = np.array(Image.open(p).resize((64, 64)))\nmodel.predict(x[None])",
        "ImageDataGenerator(rescale=1./255)\nimage = cv2.resize(cv2.imread(p)[..., ::-1], (64, 64))\n"
        "pred = model.predict(np.expand_dims(image, axis=0))",
        "ImageDataGenerator(rescale=1./255)\ntest_image = image.load_img(p, target_size=(64, 64))\n"
        "test_image = image.img_to_array(test_image)\ntest_image = np.expand_dims(test_image, axis=0)\n"
        "result = cnn.predict(test_image)",
    ],
    "FG014": [
        "img = cv2.imread(path)\nmodel.predict(img[None] / 255.0)",
        "import cv2\nx = cv2.resize(cv2.imread(p), (64, 64))\nmodel.predict(x[None])",
        "frame = cv2.imread(f)\nframe = frame / 255.\nresult = net.predict(frame[np.newaxis])",
    ],
}

CLEAN: dict[str, list[str]] = {
    "FG001": [
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator",
        "from keras.preprocessing.image import load_img, img_to_array",
        "import tensorflow as tf\ngen = tf.keras.preprocessing.image.ImageDataGenerator()",
        "from keras.preprocessing import image\ndef show(image):\n    return image.astype('uint8')",  # a parameter
    ],
    "FG002": [
        "model.fit(gen, epochs=5)",
        "def fit_generator(m, g):\n    return m.fit(g)\nfit_generator(model, gen)",
        "import tf_keras\nmodel.fit_generator(gen)",  # tf-keras still has it
        "hasattr(model, 'fit_generator')",
    ],
    "FG003": [
        "import math\nmodel.fit(gen, steps_per_epoch=math.ceil(gen.samples / 32))",
        "model.fit(gen, steps_per_epoch=len(gen))",
        "steps = int(np.ceil(n / bs))\nmodel.fit(gen, steps_per_epoch=steps)",
        "steps = n / bs\nsteps = math.ceil(steps)\nmodel.fit(gen, steps_per_epoch=steps)",
        "steps = total / bs\ndef train(model, gen, steps):\n    model.fit(gen, steps_per_epoch=steps)",
        "model.fit(gen, steps_per_epoch=100)",
    ],
    "FG004": [
        "model.fit(gen, steps_per_epoch=-(-n // bs))",
        "model.fit(gen, validation_steps=len(val))",
        "model.fit(gen, steps_per_epoch=int(math.ceil(n / bs)))",
        "half = n // 2\nmodel.fit(gen, steps_per_epoch=20)",
    ],
    "FG005": [
        "ImageDataGenerator(shear_range=20)",
        "ImageDataGenerator(shear_range=0)",
        "layers.RandomShear(0.2)",
        "ImageDataGenerator(zoom_range=0.2)",
    ],
    "FG006": [
        'layers.RandomFlip("horizontal")',
        "layers.RandomFlip(mode='horizontal_and_vertical')",
        "tf.image.random_flip_left_right(x)",
        "RandomFlip(**settings)",
    ],
    "FG007": [
        "layers.RandomRotation(0.1)",
        "layers.RandomRotation(15 / 360)",
        "ImageDataGenerator(rotation_range=20)",
        "layers.RandomRotation((-0.05, 0.05))",
    ],
    "FG008": [
        "layers.RandomZoom(0.2)",
        "ImageDataGenerator(zoom_range=0.2)\nlayers.RandomZoom(0.2, width_factor=0.2)",
        "ImageDataGenerator(zoom_range=0.2)\nlayers.RandomZoom(0.2, 0.2)",
    ],
    "FG009": [
        "ImageDataGenerator(preprocessing_function=preprocess_input)",
        "ImageDataGenerator(rescale=1./255)",
        "ImageDataGenerator(preprocessing_function=my_noise, rescale=1./255)",
        "ImageDataGenerator(preprocessing_function=preprocess_input, rescale=None)",
    ],
    "FG010": [
        "g = ImageDataGenerator(rescale=1/255, shear_range=20, validation_split=0.2)\n"
        "t = g.flow_from_directory(d, subset='training')",
        "aug = ImageDataGenerator(horizontal_flip=True)\nplain = ImageDataGenerator(rescale=1/255)\n"
        "model.fit(aug.flow_from_directory(a), validation_data=plain.flow_from_directory(b))",
        "model.fit(x, y, validation_data=(vx, vy))",
        "g = ImageDataGenerator(rescale=1/255, validation_split=0.2, horizontal_flip=False)\n"
        "v = g.flow_from_directory(d, subset='validation')",
    ],
    "FG011": [
        "test = gen.flow_from_directory(d, shuffle=False)\np = model.predict(test)\nok = p.round() == test.classes",
        "test = gen.flow_from_directory(d)\np = model.predict(test)",
        "a = gen.flow_from_directory(d)\nb = gen.flow_from_directory(d, shuffle=False)\n"
        "p = model.predict(b)\nlabels = b.classes",
        "SHUFFLE = False\nt = gen.flow_from_directory(d, shuffle=SHUFFLE)\np = model.predict(t)\nc = t.classes",
    ],
    "FG012": [
        "class Data(keras.utils.PyDataset):\n    def __init__(self):\n        super().__init__(workers=4)",
        "flow.workers = 2\nmodel.fit(flow)",
        "pool = Pool(workers=4)",
        "model.fit(x, y, epochs=5, batch_size=32)",
    ],
    "FG013": [
        "g = ImageDataGenerator(rescale=1./255)\nx = img_to_array(load_img(p)) / 255.0\nmodel.predict(x[None])",
        "g = ImageDataGenerator(rescale=1./255)\nx = img_to_array(load_img(p))\nx /= 255\nmodel.predict(x[None])",
        "g = ImageDataGenerator(rescale=1./255)\nmodel.predict(g.flow_from_directory(d))",
        "x = img_to_array(load_img(p))\nmodel.predict(x[None])",  # trained without rescale
        "g = ImageDataGenerator(rescale=1./255)\nx = np.array([[0.1, 0.2]])\nmodel.predict(x)",  # numbers, not an image
        "g = ImageDataGenerator(rescale=1./255)\n"
        "x = preprocess_input(img_to_array(load_img(p)))\nmodel.predict(x[None])",
    ],
    "FG014": [
        "img = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)\nmodel.predict(img[None])",
        "img = cv2.imread(p)[..., ::-1]\nmodel.predict(img[None])",
        "img = cv2.imread(p)\nrgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)\nmodel.predict(rgb[None])",
        "img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)\nmodel.predict(img[None])",
        "img = cv2.imread(p)\ncv2.imwrite('out.png', img)",  # no model in sight
    ],
}


def found(code: str) -> list[str]:
    return [problem.rule.id for problem in check_code(textwrap.dedent(code))]


@pytest.mark.parametrize(("rule", "code"), [(rule, code) for rule, codes in FLAGGED.items() for code in codes])
def test_each_rule_flags_the_pitfall(rule: str, code: str) -> None:
    assert rule in found(code), code


@pytest.mark.parametrize(("rule", "code"), [(rule, code) for rule, codes in CLEAN.items() for code in codes])
def test_each_rule_leaves_the_correct_form_alone(rule: str, code: str) -> None:
    assert rule not in found(code), code


def test_every_rule_has_three_of_each_and_a_lesson() -> None:
    assert set(FLAGGED) == set(CLEAN) == set(RULES)
    assert all(len(FLAGGED[rule]) >= 3 and len(CLEAN[rule]) >= 3 for rule in RULES)
    assert all(rule.lesson.startswith("lesson 0") for rule in RULES.values())
