"""How the rules' labels and the model's scores make one decision (assist/classifier/combine.py), on the
default pack as a service publishes it."""

from __future__ import annotations

from assist.scripts.pack import Pack
from tests.classifier.test_negation_scope import labels_of


def test_the_model_does_not_veto_the_category_it_reads_most(default_pack_with_models: Pack) -> None:
    """A short outage call the rules label and the model scores highest as an outage (though `none` comes
    close): with a negative veto threshold the model used to drop the label both gave it."""
    assert labels_of(default_pack_with_models, "短信平台验证码还是收不到，系统繁忙") == ("system_outage",)
