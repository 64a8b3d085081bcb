"""The built-in Alice stack simulator: fake backend, voice gateway, Ollama, OpenAI and
Prometheus on 127.0.0.1 with switchable fault scenarios (see `simulator.server`).
"""
