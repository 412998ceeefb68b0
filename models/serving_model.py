"""Name the pyfunc class MLflow serves: the models-from-code file logged with every registered model.

MLflow runs this file to build the model object, so the registered model holds no cloudpickled
Python object and `log_model` has nothing to warn about; the class itself comes from the
`leadscore.models` code logged beside it (see `leadscore.models.serving`).
"""

from mlflow.models import set_model

from leadscore.models.pyfunc import LeadScoringPyfunc

set_model(LeadScoringPyfunc())
