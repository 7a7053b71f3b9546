/* dt_hd.h — lets one header compile as C11 (host) and as CUDA (__host__ __device__). */
#ifndef DT_HD_H
#define DT_HD_H

#ifdef __CUDACC__
#define DT_HD __host__ __device__ __forceinline__
#else
#define DT_HD static inline
#endif

#endif
