/* README's build example whose declarations come from a header. */
int api_version(void);
