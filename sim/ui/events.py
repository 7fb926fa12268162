"""The trainer's own pygame events: a replay posts one injection per frame, then the submission."""

import pygame

REPLAY_INJECT = pygame.event.custom_type()
REPLAY_SUBMIT = pygame.event.custom_type()
