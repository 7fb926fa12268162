"""The trainer window (pygame-ce and pygame_gui). Only this package imports pygame; sim.core never does."""
