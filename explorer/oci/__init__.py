"""OCI image layouts on disk: reading and writing them (``layout``), and generated sample images (``sample``)."""
