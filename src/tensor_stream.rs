//! DenseTensor / SelectedRows binary streams (placeholder, filled by the binary-formats work).
