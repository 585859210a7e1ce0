"""The contract between the host (the orchestrator) and the harness that runs inside every environment.

The host writes a cell spec, a JSON object with the keys of Spec (DataSpec inside its "data"), starts
workloads/harness.py (or, for api: native, native/runner.py through it) in the environment's own interpreter with
the variables of THREAD_VARS set to the cell's thread count, and reads back the events the harness writes: JSON
lines, one object per phase, whose EVENT_FIELD names one of Event's kinds.

Both sides import this one file. The harness and its siblings sit beside it and `import protocol`; the
orchestrator loads it by path (orchestrator/core/protocol.py), from workloads/ in a checkout or
orchestrator/_workloads in a wheel. Results already on disk use these very names: add names, never rename one.

Plain Python 3.6 (the legacy Keras environments) with no imports, so that any environment can load it.
"""


class Spec(object):
    """The keys of the cell spec (one JSON object per cell, written by the host before the harness starts)."""

    CELL_ID = "cell_id"                      # the cell's id (environment, workload, profile, repeat)
    WORKLOAD = "workload"                    # the workload's name: a module in workloads/ unless SCRIPT is set
    DATASET = "dataset"                      # the dataset the workload trains on (mnist, cifar10, babi)
    BACKEND = "backend"                      # the Keras backend, or the framework of a native environment
    KERAS_VERSION = "keras_version"          # the Keras version the matrix pins (None for api: native)
    API = "api"                              # "keras", or API_NATIVE for a workload in the framework's own API
    EPOCHS = "epochs"                        # epochs to train
    BATCH_SIZE = "batch_size"                # samples per training, test and predict batch
    TRAIN_SAMPLES = "train_samples"          # training samples used (None: the whole training set)
    TEST_SAMPLES = "test_samples"            # test samples used (None: the whole test set)
    STEPS_PER_EPOCH = "steps_per_epoch"      # fit steps per epoch (None: one pass over the training samples)
    SEED = "seed"                            # the seed of every random generator the cell uses
    THREADS = "threads"                      # the thread count the frameworks are set to
    IMAGE_DATA_FORMAT = "image_data_format"  # channels_last or channels_first
    CAPABILITIES = "capabilities"            # what the environment can do: CAPABILITY_TRAIN, "infer"
    DATA = "data"                            # where the data comes from: an object with DataSpec's keys
    WORKLOAD_DIRS = "workload_dirs"          # the matrix's extra workload folders, searched after workloads/
    SCRIPT = "script"                        # a user's model file, loaded by path (None: a built-in workload)
    OPTIONS = "options"                      # the workload's settings (model size...), a profile's overrides applied
    CHECK_EQUIVALENCE = "check_equivalence"  # Keras 3: run the equivalence check before fit (absent: yes)
    PHASES = "phases"                        # the phases the profile judges; no "predict"/"generate": the inference
                                             # phase is skipped after training (absent: every phase runs)


class DataSpec(object):
    """The keys of the spec's "data" object."""

    SOURCE = "source"        # "real" or DATA_SYNTHETIC
    DIR = "dir"              # the folder of the real datasets as the harness sees it (None: download)
    CACHE_DIR = "cache_dir"  # where converted datasets are cached (None: ~/.cache/orchestrate)


API_NATIVE = "native"        # Spec.API of a native environment (workloads/native/)
CAPABILITY_TRAIN = "train"   # in Spec.CAPABILITIES when the environment can train
DATA_SYNTHETIC = "synthetic"  # DataSpec.SOURCE for generated data of the real datasets' shapes
INFERENCE_PHASES = ("predict", "generate")  # the Spec.PHASES the inference phase measures


class Event(object):
    """The kinds of event the harness writes, in the order a cell that trains writes them (docs/results-schema.md)."""

    START = "start"              # versions, threads (the frameworks' settings read back), import_s, backend
    DATA = "data"                # the data's provenance and loading time
    MODEL = "model"              # params, build seconds, hyperparameters, deviations
    COMPILE = "compile"          # Keras 1/2: seconds to build the train/test functions before fit
    EQUIVALENCE = "equivalence"  # Keras 3, before fit: outputs, loss, gradient norm on reference weights
    EPOCH = "epoch"              # one per epoch: index, seconds, loss, accuracy, val metrics
    STEPS = "steps"              # fit ms per step with the first step left out (user model files)
    FIT = "fit"                  # training totals: fit_s, train_samples_per_epoch
    SETTINGS = "settings"        # after fit: matmul precision / TF32, steps_per_execution, torch.compile counters
    DEVICE = "device"            # where the framework says the model ran
    EVALUATE = "evaluate"        # test metrics and seconds
    INFERENCE = "inference"      # predict throughput
    END = "end"                  # the cell finished: training totals again
    UNSUPPORTED = "unsupported"  # the backend cannot do what the cell asks: the reason (what ran is kept)
    ERROR = "error"              # the cell failed: type, message, traceback


EVENT_FIELD = "event"  # the field of every event object that names its kind
TIME_FIELD = "time"    # the field of every event object with its wall-clock time (seconds since the epoch)

# Set by the host to the cell's thread count in the process environment of every cell.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

XLA_FLAGS = "XLA_FLAGS"
# XLA's CPU pool has no size knob: for one thread the host sets XLA_FLAGS to this (JAX cells only).
XLA_ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
XLA_SINGLE_THREADED = "xla_cpu_multi_thread_eigen=false"  # the part of XLA_FLAGS that makes XLA's CPU one thread

# Further process variables that change how a framework uses its threads or tunes itself; set by an environment
# (its matrix env) where at all.
THREAD_SETTING_VARS = (XLA_FLAGS, "OMP_WAIT_POLICY", "KMP_BLOCKTIME", "KMP_AFFINITY", "MXNET_CPU_WORKER_NTHREADS",
                       "TF_CUDNN_USE_AUTOTUNE", "MXNET_CUDNN_AUTOTUNE_DEFAULT", "TF_ENABLE_ONEDNN_OPTS",
                       "ORCHESTRATE_TORCH_COMPILE",
                       # a test hook, recorded so a result says it: the equivalence check (equivalence.py) runs on
                       # weights perturbed by this scale, so that backend computes another model
                       "ORCHESTRATE_PERTURB_WEIGHTS")

# What the harness reads back from its process environment into its start event's threads (where set).
READ_BACK_VARS = THREAD_VARS + THREAD_SETTING_VARS


def names(namespace):
    """The values of a namespace class's constants (Spec, DataSpec, Event), in the order they are defined."""
    return tuple(value for name, value in vars(namespace).items() if name.isupper())


SPEC_KEYS = names(Spec)
DATA_KEYS = names(DataSpec)
EVENT_KINDS = names(Event)


def read_back(environ):
    """The variables of READ_BACK_VARS that are set in environ (a mapping such as os.environ)."""
    return dict((name, environ[name]) for name in READ_BACK_VARS if name in environ)
