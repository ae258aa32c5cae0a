"""GET /v1/llm_models through the SDK's LLMModel (pydantic) model."""


def test_llm_models_list(client, model):
    models = client.llms.list()
    names = [m.base_name for m in models]
    assert model in names
    m = next(m for m in models if m.base_name == model)
    assert m.enabled is True
    assert m.deployment_name
    assert m.features is not None and m.features.streaming is True
