"""What the three plugins share. Layers:

- errors, validation, waiting, redaction: plain Python, no Cloudify ctx, no backend clients;
- tasks: the operation decorator (tasks layer: the only module here that imports cloudify);
- offline: the minimal types file and import resolver for running blueprints without a manager.
"""
