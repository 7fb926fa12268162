"""An attempt's lifecycle: the attempt in progress, the crash journal, the record model and its signature."""
