/** The environment variable with the server's token: named in `serve --help`, which must not load the server to say so. */
export const TOKEN_ENV = 'JSONL_MIRROR_TOKEN';
