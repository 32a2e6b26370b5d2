process.env.LOG_LEVEL ??= 'error';
process.env.CALLBACK_ALLOW_PRIVATE_NETWORKS ??= 'true';
