"""Problem fields explained when read: the numbers an explanation is written from are stored (the expected
rate, the parent level's rate, the tasks' level, whether the flag was withdrawn as shared), the stored text
is kept for the runs made before (renamed explanation_text), and the foreign keys that no page looks rows up
by lose their indexes, which a region's run wrote hundreds of thousands of times."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analysis', '0001_initial'),
        ('core', '0001_initial'),
        ('reference', '0002_published_result'),
    ]

    operations = [
        migrations.RenameField(
            model_name='problemfield',
            old_name='explanation',
            new_name='explanation_text',
        ),
        migrations.AddField(
            model_name='problemfield',
            name='expected',
            field=models.FloatField(blank=True, help_text='Чего ждать от группы на этом поле при её результате по всей работе.', null=True, verbose_name='ожидаемый процент выполнения'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='explanation_text',
            field=models.TextField(blank=True, help_text='Пустое, если пояснение пишется по числам строки на языке читателя.', verbose_name='пояснение'),
        ),
        migrations.AddField(
            model_name='problemfield',
            name='parent_level',
            field=models.CharField(blank=True, max_length=16, verbose_name='уровень выше'),
        ),
        migrations.AddField(
            model_name='problemfield',
            name='parent_rate',
            field=models.FloatField(blank=True, null=True, verbose_name='процент выполнения уровня выше'),
        ),
        migrations.AddField(
            model_name='problemfield',
            name='shared_tasks',
            field=models.BooleanField(default=False, help_text='Отставание приходится на задания, которые проверяют и другое, более выраженное поле.', verbose_name='снято как общее с другим полем'),
        ),
        migrations.AddField(
            model_name='problemfield',
            name='task_level',
            field=models.CharField(blank=True, max_length=16, verbose_name='уровень сложности заданий'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='assessment',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='reference.assessment', verbose_name='работа'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='content_element',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='reference.contentelement', verbose_name='элемент содержания'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='run',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='problem_fields', to='analysis.analysisrun', verbose_name='анализ'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='school_class',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='core.schoolclass', verbose_name='класс'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='skill',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='reference.skill', verbose_name='умение'),
        ),
        migrations.AlterField(
            model_name='problemfield',
            name='teacher',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='core.teacher', verbose_name='учитель'),
        ),
    ]
