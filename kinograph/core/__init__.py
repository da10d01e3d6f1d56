"""The engine: node API, port types, graph model, file format, plugins, scheduler and CLI.

Nothing here imports Qt; torch, numpy, cv2, av and networkx are imported only when needed.
"""
