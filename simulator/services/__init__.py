"""The simulated Alice services, one aiohttp application each."""
