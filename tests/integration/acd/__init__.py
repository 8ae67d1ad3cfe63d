"""Queue (ACD) tests on a real box with real phones: strategies, agent states, exits."""
