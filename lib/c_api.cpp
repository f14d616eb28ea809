// placeholder: the C ABI lands with the embedding issue
