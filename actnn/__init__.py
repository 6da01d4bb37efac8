"""actnn: actuarial GLMs that are Keras networks.

Poisson frequency and Gamma severity models with log link, fitted exactly as GLMs and held in
Keras networks, so that they can grow into embedding networks and CANNs.
"""

import os

# actnn's networks are TensorFlow-backed Keras 3 models; quiet TensorFlow's start-up chatter unless
# the user asked for it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
