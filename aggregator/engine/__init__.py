"""The clearing engine: snapshot in, result out. Pure Python + OR-Tools + numpy; no Django."""
