/* foo.cpp: the cookbook's first example.
 *
 * As in the cookbook, except FOO_API: the cookbook defines it as 'extern' when FOO_DLL is
 * not defined ("XXX confirm this"), which makes 'extern FOO_API int bar' a duplicate
 * 'extern' that C++ compilers reject.  Outside a Windows DLL it is simply empty. */
#include <stdio.h>

#ifdef FOO_DLL
#ifdef FOO_EXPORTS
#define FOO_API __declspec(dllexport)
#else
#define FOO_API __declspec(dllimport)
#endif /* FOO_EXPORTS */
#else
#define FOO_API
#endif /* FOO_DLL */

#ifdef __cplusplus
extern "C" {
#endif

extern FOO_API int bar(double* data, int len) {
   int i;
   printf("data = %p\n", (void*) data);
   for (i = 0; i < len; i++) {
      printf("data[%d] = %f\n", i, data[i]);
   }
   printf("len = %d\n", len);
   return len + 1;
}

#ifdef __cplusplus
}
#endif
