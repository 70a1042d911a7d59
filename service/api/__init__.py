"""The HTTP edge: controllers are thin (authorize, call one service method, return a schema)."""
