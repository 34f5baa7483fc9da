"""The classic Keras 2 recipe, as tutorials wrote it: lesson 00 runs fitgen-check on it and trains the fixed copy,
lesson 04 runs it line by line on Keras 3. ``train_dir``, ``validation_dir``, ``model``, ``epochs``: the lesson's."""
# ruff: noqa: F821

from keras.preprocessing.image import ImageDataGenerator

batch_size = 16
train_datagen = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
validation_datagen = ImageDataGenerator(rescale=1.0 / 255)

train_generator = train_datagen.flow_from_directory(
    train_dir, target_size=(64, 64), batch_size=batch_size, class_mode="binary"
)
validation_generator = validation_datagen.flow_from_directory(
    validation_dir, target_size=(64, 64), batch_size=batch_size, class_mode="binary"
)

history = model.fit_generator(
    train_generator,
    steps_per_epoch=train_generator.samples / batch_size,
    epochs=epochs,
    validation_data=validation_generator,
    validation_steps=validation_generator.samples // batch_size,
)
