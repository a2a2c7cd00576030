"""Pictures drawn with Pillow alone: `show`'s three panels, the confusion matrix, the most
confident mistakes. The runtime install draws them; no plotting library is needed."""
