from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["sent_at", "author", "text"]
    list_filter = ["author"]
    search_fields = ["text"]
