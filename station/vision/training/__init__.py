"""Training of the mask classifier (PyTorch, a training-only extra): ``python -m station.vision.training``.

``data`` finds and aligns the data set's faces, ``augment`` makes them look like the door's (numpy and OpenCV
only, so it is tested without PyTorch), ``net`` is the network, ``train`` trains, checks and exports it.
"""
