#define FAST_SCALE 1.0
