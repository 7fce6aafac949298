// README's C++ build example: the extern "C" functions are what ndffi declares.
extern "C" double square_area(double side) { return side * side; }
