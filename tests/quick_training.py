"""Training settings for tests about what surrounds the model, not about which model wins.

A test of vocabularies, lead columns, model files or the registry needs a trained model, not
the model choice: one candidate (LightGBM, so no selection folds) and two backtest blocks
train the same stages in a third of the time. The `trained` fixture and the demo keep the
packaged defaults, so the full choice is still trained end to end.
"""

QUICK_TRAINING = {"model": {"families": ["lightgbm"]}, "backtest": {"folds": 2}}
