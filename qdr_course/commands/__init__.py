"""Sub-commands of ``qdr-course``: one module each, each with ``register(subparsers)``.

Keep module-level imports light (import heavy libraries inside the command function) so
``qdr-course --help`` stays fast.
"""
