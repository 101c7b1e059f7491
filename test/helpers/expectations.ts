/** Expected properties of the image files in ../shared/data, from ../shared/data/README.md. */
export interface Expect { file: string; dims: number[]; spacing: number[]; dtype: string; min: number; max: number; orient: string; frames?: number }

/** Expected values from ../shared/data/README.md (computed there with nibabel). */
export const NIFTI_EXPECTATIONS: Expect[] = [
  ...([['t1c', 15462], ['t1n', 2921], ['t2f', 3119], ['t2w', 3689]] as const).map(([s, max]) => ({
    file: `brats-gli-00001-000/BraTS-GLI-00001-000-${s}.nii.gz`, dims: [240, 240, 155], spacing: [1, 1, 1], dtype: 'int16', min: 0, max, orient: 'LPS',
  })),
  ...([['t1', -52, 759], ['t1c', -3, 1098], ['t2', -136, 1593], ['fla', -45, 663]] as const).map(([s, min, max]) => ({
    file: `tcga-fg-6692-brainles/OtherEXampleFromTCIA_${s}_bet.nii.gz`, dims: [240, 240, 155], spacing: [1, 1, 1], dtype: 'int16', min, max, orient: 'LPS',
  })),
  { file: 'tcga-fg-6692-brainles/seg_fusion_simple.nii.gz', dims: [240, 240, 155], spacing: [1, 1, 1], dtype: 'uint8', min: 0, max: 4, orient: 'LPS' },
  { file: 'stroke-mri-cstar/T1.nii.gz', dims: [124, 160, 140], spacing: [1, 1, 1], dtype: 'uint8', min: 0, max: 252, orient: 'RAS' },
  { file: 'stroke-mri-cstar/FLAIR.nii.gz', dims: [124, 160, 140], spacing: [1, 1, 1], dtype: 'uint8', min: 0, max: 255, orient: 'RAS' },
  { file: 'stroke-mri-cstar/T2.nii.gz', dims: [124, 160, 140], spacing: [1, 1, 1], dtype: 'float32', min: 0, max: 503.97, orient: 'RAS' },
  { file: 'seg3d-head-mri/MR.nii.gz', dims: [160, 232, 160], spacing: [1.0, 0.8984, 0.8984], dtype: 'float32', min: 0, max: 512, orient: 'RAS' },
  { file: 'totalseg-ct/example_ct.nii.gz', dims: [122, 101, 112], spacing: [3, 3, 3], dtype: 'int32', min: -1207, max: 3382, orient: 'RAS' },
  { file: 'mri-2d-slices-motion-dcm-qa-sag/2_fmri_SagAP.nii', dims: [64, 64, 36], spacing: [3.203, 3.203, 3.6], dtype: 'int16', min: 0, max: 3174, orient: 'PSL', frames: 6 },
  { file: 'mri-2d-slices-motion-dcm-qa-sag/3_fmri_SagHF.nii', dims: [64, 64, 36], spacing: [3.203, 3.203, 3.6], dtype: 'int16', min: 0, max: 3114, orient: 'PSL', frames: 6 },
];


/** DICOM inputs (folders or files) and what ../shared/data/README.md says about them. */
export const DICOM_EXPECTATIONS: { path: string; dims: number[]; spacing: number[]; min: number; max: number }[] = [
  { path: 'totalseg-ct/example_ct_dicom', dims: [512, 512, 20], spacing: [0.9766, 0.9766, 2], min: -1024, max: 1839 },
  { path: 'dicom-samples/pydicom/CT_small.dcm', dims: [128, 128, 1], spacing: [0.661, 0.661, NaN], min: 128 - 1024, max: 2191 - 1024 },
  { path: 'dicom-samples/pydicom/MR_small.dcm', dims: [64, 64, 1], spacing: [NaN, NaN, NaN], min: 127, max: 2145 },
  { path: 'dicom-samples/niivue-enhanced-mr/enh.dcm', dims: [64, 64, 6], spacing: [NaN, NaN, NaN], min: 0, max: 1195 },
  { path: 'dicom-samples/vs-seg-001-t1-8slices', dims: [512, 512, 8], spacing: [0.41, 0.41, 1.5], min: NaN, max: NaN },
];
