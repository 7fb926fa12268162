"""The core: geometry, atlas, techniques, scenarios, injection logs and scoring. It knows no screen."""
