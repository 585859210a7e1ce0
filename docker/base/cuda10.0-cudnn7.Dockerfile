# GPU base for the legacy images (tensorflow-gpu 1.15, cntk-gpu 2.7, mxnet-cu100, Theano + libgpuarray):
# Ubuntu 18.04 (Python 3.6) with the CUDA 10.0 runtime libraries and cuDNN 7.6 from NVIDIA's apt repositories.
# NVIDIA deleted the nvidia/cuda:10.0-* tags from Docker Hub in 2023; this rebuilds their runtime + cuDNN layer.
# `orchestrate build --runtime docker` builds it (tagged orchestrate-base/cuda10.0-cudnn7:<content hash>) when a
# legacy environment's GPU image needs it. CUDA 10.0 covers compute capability 3.0 to 7.5 (K80 3.7 ... T4 7.5).
ARG UBUNTU_IMAGE=ubuntu:18.04
FROM ${UBUNTU_IMAGE}

ARG CUDA_REPO=https://developer.download.nvidia.com/compute/cuda/repos/ubuntu1804/x86_64
ARG ML_REPO=https://developer.download.nvidia.com/compute/machine-learning/repos/ubuntu1804/x86_64
ARG CUDA_PKG_VERSION=10-0=10.0.130-1
ARG CUDNN_VERSION=7.6.5.32-1+cuda10.0
ARG NCCL_VERSION=2.6.4-1+cuda10.0

ENV DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg2 \
 && curl -fsSL "${CUDA_REPO}/3bf863cc.pub" | apt-key add - \
 && echo "deb ${CUDA_REPO} /" > /etc/apt/sources.list.d/cuda.list \
 && echo "deb ${ML_REPO} /" > /etc/apt/sources.list.d/nvidia-ml.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      "cuda-cudart-${CUDA_PKG_VERSION}" "cuda-libraries-${CUDA_PKG_VERSION}" "cuda-nvtx-${CUDA_PKG_VERSION}" \
      "libcudnn7=${CUDNN_VERSION}" "libnccl2=${NCCL_VERSION}" \
 && apt-mark hold libcudnn7 libnccl2 \
 && ln -sfn cuda-10.0 /usr/local/cuda \
 && echo "/usr/local/nvidia/lib" >> /etc/ld.so.conf.d/nvidia.conf \
 && echo "/usr/local/nvidia/lib64" >> /etc/ld.so.conf.d/nvidia.conf \
 && apt-get purge -y --auto-remove curl gnupg2 \
 && rm -rf /var/lib/apt/lists/*

ENV CUDA_VERSION=10.0.130 \
    CUDNN_VERSION=7.6.5.32 \
    PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64:/usr/local/cuda/lib64 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    NVIDIA_REQUIRE_CUDA="cuda>=10.0"
