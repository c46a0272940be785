package mllpshim

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

func metav1PatchOptions() metav1.PatchOptions {
	return metav1.PatchOptions{FieldManager: "nerve-demo-mllp-shim"}
}

func metav1GetOptions() metav1.GetOptions { return metav1.GetOptions{} }
