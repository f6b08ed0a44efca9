// placeholder: herald.js lands here
